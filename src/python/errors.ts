/** A failure to run a component, with a stable code and, where known, the component's file and line. */
export class PythonRunError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(code: string, message: string, file?: string, line?: number) {
    super(message);
    this.name = 'PythonRunError';
    this.code = code;
    this.file = file;
    this.line = line;
  }
}
