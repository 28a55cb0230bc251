/** A mistake the user can fix (a bad flag, an unknown workspace): printed as one line, exit status 1. */
export class CliError extends Error { override name = 'CliError'; }
