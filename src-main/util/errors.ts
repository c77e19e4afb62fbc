/**
 * A mistake the user can fix: a bad file, field or argument. The CLI prints it as one line and
 * exits 2; the studio shows it inline. Anything that is not a UserError is a bug in the studio.
 */
export interface ErrorDetail {
  /** File the problem is in, when there is one. */
  file?: string;
  /** Field path inside the file or config (e.g. `reward.terms[2].margin`), when there is one. */
  field?: string;
  /** What is wrong, in the user's words. */
  message: string;
}

export class UserError extends Error {
  readonly details: ErrorDetail[];

  constructor(details: ErrorDetail | ErrorDetail[] | string) {
    const list = typeof details === 'string' ? [{ message: details }] : Array.isArray(details) ? details : [details];
    super(list.map(formatDetail).join('; '));
    this.name = 'UserError';
    this.details = list;
  }
}

export function formatDetail(d: ErrorDetail): string {
  const where = [d.file, d.field].filter(Boolean).join(': ');
  return where ? `${where}: ${d.message}` : d.message;
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError || (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'UserError');
}

/** Turn zod issues into error details that name the file and the field path. */
export function zodDetails(
  file: string | undefined,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): ErrorDetail[] {
  return issues.map((i) => ({
    ...(file ? { file } : {}),
    field: i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k ? '.' : ''}${String(p)}`)).join('') || '(root)',
    message: i.message,
  }));
}
