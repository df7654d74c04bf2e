/**
 * The SDK's generated files, rendered in memory from the API's route contracts:
 * `openapi.json` (the OpenAPI 3.1 document snapshot) and `src/schema.ts` (its types, by
 * openapi-typescript). Used by `scripts/generate.ts` and by the freshness test.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@houfu/api';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';

/** packages/sdk */
export const sdkRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export const STALE_MESSAGE = 'SDK is stale: run pnpm sdk:generate';

export interface RenderedFile {
  /** Absolute path. */
  path: string;
  contents: string;
}

/** The document exactly as the API builds it: 2-space JSON, key order as produced, trailing newline. */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

/** `src/schema.ts` from the JSON text of the document (what is committed is what the types come from). */
export async function renderSchemaTs(openApiJson: string): Promise<string> {
  const document = JSON.parse(openApiJson) as OpenAPI3;
  // A property with a `default` stays optional: openapi-typescript would make it required (its
  // `defaultNonNullable`), and only exempts inline request bodies — not the named schemas our bodies
  // are (`CreateDisbursement.kind`, `ExportDisbursement.format`, `RevealRequest.fields` may be left out).
  const ast = await openapiTS(document, { silent: true, cwd: sdkRoot, defaultNonNullable: false });
  return `${COMMENT_HEADER}${astToString(ast)}`;
}

export async function renderSdk(): Promise<RenderedFile[]> {
  const json = renderOpenApiJson();
  return [
    { path: join(sdkRoot, 'openapi.json'), contents: json },
    { path: join(sdkRoot, 'src', 'schema.ts'), contents: await renderSchemaTs(json) },
  ];
}

/** The generated files whose committed contents differ from a fresh rendering (relative paths). */
export async function staleFiles(rendered?: RenderedFile[]): Promise<string[]> {
  const files = rendered ?? (await renderSdk());
  const stale: string[] = [];
  for (const file of files) {
    const committed = await readFile(file.path, 'utf8').catch(() => undefined);
    if (committed !== file.contents) stale.push(relative(sdkRoot, file.path));
  }
  return stale;
}

export async function writeSdk(rendered?: RenderedFile[]): Promise<string[]> {
  const files = rendered ?? (await renderSdk());
  const changed = await staleFiles(files);
  for (const file of files) {
    if (changed.includes(relative(sdkRoot, file.path))) await writeFile(file.path, file.contents, 'utf8');
  }
  return changed;
}
