import { writeFile } from 'node:fs/promises';
import { authorizationMarkdown } from '../src/authorization.js';

const target = new URL('../../../docs/authorization.md', import.meta.url);
await writeFile(target, authorizationMarkdown());
console.log(`wrote ${target.pathname}`);
