import { scrubSensitive } from '@houfu/domain';
import { type Logger, pino } from 'pino';

export type { Logger };

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return scrubSensitive(value);
  // A number long enough to be an ID or account number is masked like its digits would be.
  if (typeof value === 'number' && Math.abs(value) >= 1e12) return scrubSensitive(String(value));
  if (Array.isArray(value)) return value.map(scrub);
  if (value instanceof Error)
    return { type: value.name, message: scrub(value.message), stack: scrub(value.stack) };
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
  }
  return value;
}

/**
 * JSON-lines logger. Every field and message passes through scrubSensitive, so a national ID or bank
 * account number that slips into a log call is masked before it is written.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'houfu-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubSensitive(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
