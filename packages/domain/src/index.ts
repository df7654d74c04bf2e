export * from './divisions.js';
export { isIsoDate } from './internal/calendar.js';
export * from './money.js';
export * from './national-id.js';
export * from './parameters.js';
export * from './periods.js';
export * from './permissions.js';
export * from './registry.js';
export * from './registry-import.js';
