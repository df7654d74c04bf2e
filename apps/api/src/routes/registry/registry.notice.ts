import { relationshipLabels, relocateeKindLabels } from '@houfu/domain';
import { csvField } from '../../lib/files.js';
import type { Notice, NoticeRow } from './registry.service.js';

/*
 * Renders the village public notice 公示. Only masked ID numbers ever reach these functions (the
 * rows carry `persons.id_masked`), and every value is escaped for its format.
 */

const HEADERS = ['户编号', '姓名', '性别', '身份证号', '与户主关系', '移民类别'] as const;

const sexLabels = { male: '男', female: '女' } as const;

function cells(r: NoticeRow): string[] {
  return [
    r.householdNo,
    r.name,
    sexLabels[r.sex],
    r.idMasked,
    relationshipLabels[r.relationship],
    relocateeKindLabels[r.relocateeKind],
  ];
}

/** UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF line ends. */
export function noticeCsv(notice: Notice): string {
  const lines = [
    HEADERS.map(csvField).join(','),
    ...notice.rows.map((r) => cells(r).map(csvField).join(',')),
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string | number | null | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => ESCAPES[ch] as string);
}

/** A printable page in Chinese: title, place, year, counts, the table and blanks for the notice period. */
export function noticeHtml(notice: Notice): string {
  const place = [notice.countyName, notice.townshipName, notice.villageName].filter(Boolean).join(' ');
  const title = `${place} ${notice.year}年度水库移民后期扶持人口公示`;
  const rows = notice.rows
    .map(
      (r, i) =>
        `<tr><td class="n">${i + 1}</td>${cells(r)
          .map((v) => `<td>${escapeHtml(v)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em; color: #000; }
  h1 { font-size: 1.5em; text-align: center; margin-bottom: 0.2em; }
  .meta { text-align: center; margin: 0.2em 0 1em; }
  table { width: 100%; border-collapse: collapse; }
  th, td { border: 1px solid #000; padding: 0.3em 0.5em; text-align: center; }
  td.n { width: 3em; }
  .blank { display: inline-block; min-width: 8em; border-bottom: 1px solid #000; }
  .foot p { margin: 0.6em 0; }
  @media print {
    body { margin: 1cm; }
    thead { display: table-header-group; }
    tr { page-break-inside: avoid; }
  }
  @page { size: A4; margin: 1.5cm; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">县（市、区）：${escapeHtml(notice.countyName)}　乡（镇）：${escapeHtml(notice.townshipName)}　村：${escapeHtml(notice.villageName)}（${escapeHtml(notice.villageCode)}）　年度：${escapeHtml(notice.year)}</p>
<p class="meta">共 ${escapeHtml(notice.households)} 户、${escapeHtml(notice.rows.length)} 人</p>
<table>
<thead><tr><th>序号</th>${HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
<div class="foot">
<p>公示期：自<span class="blank"></span>起至<span class="blank"></span>止。</p>
<p>监督电话：<span class="blank"></span></p>
<p>说明：身份证号仅显示前6位和后4位。对公示内容如有异议，请在公示期内向村民委员会或县移民管理机构反映。</p>
</div>
</body>
</html>
`;
}
