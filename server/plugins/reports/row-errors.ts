import type { z } from 'zod';
import { problem } from '../../core/errors';
import type { RowError } from './import.model';

/**
 * A file row's schema problems as row errors. The schemas' messages are locale keys; the column
 * and the limits are their values.
 */
export function zodRowErrors(row: number, issues: z.core.$ZodIssue[]): RowError[] {
  return issues.map((i) => {
    const column = String(i.path[0] ?? 'row');
    const key = i.message.includes(':') ? i.message : 'reports:rowErrors.invalid';
    const extra = (i as { params?: Record<string, unknown> }).params ?? {};
    const max = (i as { maximum?: unknown }).maximum;
    const values = (i as { values?: unknown[] }).values;
    return {
      row,
      column,
      ...problem(key, {
        column,
        ...(max !== undefined ? { max: Number(max) } : {}),
        ...(values ? { expected: values.join(', ') } : {}),
        ...extra,
      }),
    };
  });
}
