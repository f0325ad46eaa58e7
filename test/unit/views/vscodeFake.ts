/**
 * A fake of the editor's API (the outside world of src/views), enough to drive a webview panel and a command
 * as the editor would: panels created, pages posting messages, messages the host posts back, toasts, commands.
 * Importing this module first makes `require('vscode')` answer with it in this process.
 */
import Module from 'node:module';
import { join } from 'node:path';

type Listener<T> = (value: T) => unknown;

export class Disposable {
  constructor(private readonly callback: () => void = () => undefined) {}
  dispose(): void {
    this.callback();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static from(parts: { scheme: string; path: string }): Uri {
    return new Uri(parts.scheme, parts.path);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

/** A webview panel as the editor holds it; `fromPage` delivers a message as the page would post it. */
export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  visible = true;
  disposed = false;
  title: string;
  iconPath: unknown;
  private readonly received = new EventEmitter<unknown>();
  private readonly disposedEmitter = new EventEmitter<void>();
  private readonly viewState = new EventEmitter<unknown>();
  readonly webview = {
    options: {} as unknown,
    html: '',
    cspSource: 'vscode-webview:',
    asWebviewUri: (uri: Uri) => uri,
    postMessage: async (message: unknown): Promise<boolean> => {
      if (this.disposed) throw new Error('Webview is disposed');
      this.posted.push(message);
      return true;
    },
    onDidReceiveMessage: this.received.event,
  };
  readonly onDidDispose = this.disposedEmitter.event;
  readonly onDidChangeViewState = this.viewState.event;

  constructor(
    readonly viewType: string,
    title: string,
  ) {
    this.title = title;
  }

  fromPage(message: unknown): void {
    // The editor passes only what survives JSON (the page's postMessage is structured-cloned, then serialised).
    this.received.fire(message);
  }

  reveal(): void {
    this.visible = true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposedEmitter.fire();
  }
}

/**
 * A quick pick or input box (`window.createQuickPick` / `createInputBox`) as the editor shows it: what it shows is
 * read from its fields, and a test answers it as a person would (`choose`, `type`, `back`, `hide`) from
 * `editor.onQuickInput`, called once it is shown.
 */
export class FakeQuickInput {
  title?: string;
  step?: number;
  totalSteps?: number;
  placeholder?: string;
  prompt?: string;
  value = '';
  validationMessage?: string;
  ignoreFocusOut = false;
  buttons: readonly unknown[] = [];
  items: ReadonlyArray<{ label: string; value?: unknown; description?: string }> = [];
  activeItems: ReadonlyArray<{ label: string; value?: unknown }> = [];
  selectedItems: ReadonlyArray<{ label: string; value?: unknown }> = [];
  disposed = false;
  private readonly accepted = new EventEmitter<void>();
  private readonly hidden = new EventEmitter<void>();
  private readonly button = new EventEmitter<unknown>();
  private readonly active = new EventEmitter<ReadonlyArray<{ label: string }>>();
  private readonly changed = new EventEmitter<string>();
  readonly onDidAccept = this.accepted.event;
  readonly onDidHide = this.hidden.event;
  readonly onDidTriggerButton = this.button.event;
  readonly onDidChangeActive = this.active.event;
  readonly onDidChangeValue = this.changed.event;
  constructor(readonly kind: 'pick' | 'box') {}
  show(): void {
    // The editor highlights the first item when nothing else is.
    if (this.kind === 'pick' && this.activeItems.length === 0 && this.items[0]) this.activeItems = [this.items[0]];
    editor.quickInputs.push(this);
    setImmediate(() => editor.onQuickInput(this));
  }
  dispose(): void {
    this.disposed = true;
  }
  /** Highlights the item with this label, then picks it (a quick pick). */
  choose(label: string): void {
    const item = this.items.find((i) => i.label === label);
    if (!item) throw new Error(`no item "${label}" in ${this.items.map((i) => i.label).join(', ')}`);
    // Moving the highlight there first, as arrowing to it does.
    this.activeItems = [item];
    this.active.fire([item]);
    this.selectedItems = [item];
    this.accepted.fire();
  }
  /** Accepts what is highlighted (a quick pick) or the value as it stands (an input box). */
  accept(): void {
    this.accepted.fire();
  }
  /** Replaces the value and presses Enter (an input box). */
  type(value: string): void {
    this.value = value;
    this.changed.fire(value);
    this.accepted.fire();
  }
  /** Presses the Back button, when it is shown. */
  back(): void {
    if (!this.buttons.includes(QuickInputButtons.Back)) throw new Error(`no Back button at step ${this.step}`);
    this.button.fire(QuickInputButtons.Back);
  }
  /** Escape: the input closes. */
  hide(): void {
    this.hidden.fire();
  }
}

const QuickInputButtons = { Back: { iconPath: 'back' } };

export interface Toast {
  readonly level: 'information' | 'warning' | 'error';
  readonly message: string;
}

/** What the fake editor recorded, and what its dialogs answer; `reset()` between tests. */
export const editor = {
  panels: [] as FakeWebviewPanel[],
  toasts: [] as Toast[],
  executed: [] as Array<{ command: string; args: unknown[] }>,
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  /** What a command run through executeCommand that nothing registered answers (a promise the test settles). */
  unregistered: (_command: string, ..._args: unknown[]): unknown => undefined,
  /** The button a modal or a toast's choice returns. */
  answer: (_message: string, _items: readonly unknown[]): unknown => undefined,
  trusted: true,
  configuration: new Map<string, unknown>(),
  /** The panel serializers registered, by view type: `deserializeWebviewPanel` is a window reload's restore. */
  serializers: new Map<string, { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }>(),
  /** Every quick pick and input box shown, in order. */
  quickInputs: [] as FakeQuickInput[],
  /** Answers a quick pick or input box once shown (default: Escape). */
  onQuickInput: (input: FakeQuickInput): void => input.hide(),
  reset(): void {
    this.quickInputs.length = 0;
    this.onQuickInput = (input) => input.hide();
    this.panels.length = 0;
    this.toasts.length = 0;
    this.executed.length = 0;
    this.commands.clear();
    this.unregistered = () => undefined;
    this.answer = () => undefined;
    this.trusted = true;
    this.configuration.clear();
  },
};

const toast =
  (level: Toast['level']) =>
  async (message: string, ...rest: unknown[]): Promise<unknown> => {
    editor.toasts.push({ level, message });
    const items = rest.filter((r) => typeof r === 'string');
    return editor.answer(message, items);
  };

const logChannel = {
  lines: [] as string[],
  info(m: string) {
    this.lines.push(`info ${m}`);
  },
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  },
  error(m: string) {
    this.lines.push(`error ${m}`);
  },
  debug() {},
  trace() {},
  show() {},
  dispose() {},
};
export type FakeLog = typeof logChannel;
export function fakeLog(): FakeLog {
  return { ...logChannel, lines: [] };
}

export const vscode = {
  Disposable,
  EventEmitter,
  Uri,
  ViewColumn: { One: 1, Two: 2, Beside: -2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  Range: class {
    constructor(
      readonly startLine: number,
      readonly startCharacter: number,
      readonly endLine: number,
      readonly endCharacter: number,
    ) {}
  },
  Diagnostic: class {
    source?: string;
    code?: string;
    constructor(
      readonly range: unknown,
      readonly message: string,
      readonly severity: number,
    ) {}
  },
  languages: {
    registerDocumentLinkProvider: () => new Disposable(),
    createDiagnosticCollection: () => ({
      set: () => undefined,
      delete: () => undefined,
      clear: () => undefined,
      dispose: () => undefined,
    }),
  },
  debug: {
    registerDebugAdapterDescriptorFactory: () => new Disposable(),
    registerDebugAdapterTrackerFactory: () => new Disposable(),
  },
  QuickPickItemKind: { Separator: -1, Default: 0 },
  QuickInputButtons,
  window: {
    createWebviewPanel: (viewType: string, title: string): FakeWebviewPanel => {
      const panel = new FakeWebviewPanel(viewType, title);
      editor.panels.push(panel);
      return panel;
    },
    registerWebviewPanelSerializer: (
      viewType: string,
      serializer: { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> },
    ) => {
      editor.serializers.set(viewType, serializer);
      return new Disposable(() => editor.serializers.delete(viewType));
    },
    showInformationMessage: toast('information'),
    showWarningMessage: toast('warning'),
    showErrorMessage: toast('error'),
    showSaveDialog: async () => undefined,
    showQuickPick: async () => undefined,
    showInputBox: async () => undefined,
    createQuickPick: () => new FakeQuickInput('pick'),
    createInputBox: () => new FakeQuickInput('box'),
    activeTextEditor: undefined,
    withProgress: async <T>(_options: unknown, task: (progress: unknown, token: unknown) => Promise<T>) =>
      task({ report: () => undefined }, { onCancellationRequested: () => new Disposable() }),
  },
  workspace: {
    get isTrusted(): boolean {
      return editor.trusted;
    },
    textDocuments: [] as unknown[],
    workspaceFolders: undefined,
    getConfiguration: () => ({
      get: (key: string) => editor.configuration.get(key),
      // Every value set here is the user's (settings.json of the user); workspaces set none.
      inspect: (key: string) =>
        editor.configuration.has(key) ? { globalValue: editor.configuration.get(key) } : undefined,
      update: async () => undefined,
    }),
    onDidChangeConfiguration: () => new Disposable(),
    openTextDocument: async (uri: Uri): Promise<never> => {
      throw new Error(`cannot open ${uri.fsPath}`);
    },
    findFiles: async () => [],
    asRelativePath: (path: string) => path,
    registerTextDocumentContentProvider: () => new Disposable(),
  },
  commands: {
    registerCommand: (id: string, handler: (...args: unknown[]) => unknown): Disposable => {
      editor.commands.set(id, handler);
      return new Disposable(() => editor.commands.delete(id));
    },
    executeCommand: async (command: string, ...args: unknown[]): Promise<unknown> => {
      editor.executed.push({ command, args });
      const handler = editor.commands.get(command);
      return handler ? handler(...args) : editor.unregistered(command, ...args);
    },
  },
};

const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const load = loader._load;
loader._load = function (request: string, parent: unknown, isMain: boolean): unknown {
  return request === 'vscode' ? vscode : load.call(this, request, parent, isMain);
};
