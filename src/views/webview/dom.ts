/// <reference lib="dom" />
/**
 * What the three panel scripts (result, compare, replay) share: looking up their own elements, making
 * elements from text (never HTML strings from data), the UTC time they show, the editor theme a chart takes,
 * and the "Run again" button. Each script is bundled on its own (esbuild inlines this module into each).
 */

/** `document.getElementById(id)`, or an error naming the panel: a missing element is a bug in the page. */
export function elementsOf(panel: string): <T extends HTMLElement = HTMLElement>(id: string) => T {
  return <T extends HTMLElement = HTMLElement>(id: string): T => {
    const element = document.getElementById(id);
    if (!element) throw new Error(`the ${panel} panel has no element #${id}`);
    return element as T;
  };
}

/**
 * The notifications the host wrote into the page when it made it (`PageParts.initial`: a view it already had),
 * as sent: each is parsed with the panel's protocol like any message. None when the page holds none or they
 * are not a JSON array.
 */
export function initialNotifications(): unknown[] {
  const text = document.getElementById('sptrader-initial')?.textContent;
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * Notes (a `performance` mark named `sptrader:painted`, its detail `key`) when a result is first on screen: the
 * page's own record of when, which the UI tests read instead of when they first saw it. One mark is kept, the
 * first paint of the latest key (a later event of the same result redraws it without moving the mark).
 */
export function markPainted(key: string): void {
  const last = performance.getEntriesByName('sptrader:painted').pop() as PerformanceMark | undefined;
  if (last?.detail === key) return;
  performance.clearMarks('sptrader:painted');
  performance.mark('sptrader:painted', { detail: key });
}

/** A new element holding `text` as text (null or undefined: none), with `className` when given. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | null,
  className?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** `2026-12-04 10:15:00.123 UTC`: every panel shows times in UTC, as the log and the CLI do. */
export const utcTime = (at: number): string => new Date(at).toISOString().replace('T', ' ').replace('Z', ' UTC');

/** A colour of the editor's theme (a `--vscode-…` variable), or `fallback` before the theme has set it. */
export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** A chart's layout and grid in the editor's theme colours. */
export function themedChartOptions(): {
  layout: { background: { color: string }; textColor: string; fontFamily: string };
  grid: { vertLines: { color: string }; horzLines: { color: string } };
} {
  const grid = cssVar('--vscode-editorWidget-border', '#454545');
  return {
    layout: {
      background: { color: 'transparent' },
      textColor: cssVar('--vscode-editor-foreground', '#cccccc'),
      fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    },
    grid: { vertLines: { color: grid }, horzLines: { color: grid } },
  };
}

/** Calls `apply` again whenever VS Code swaps the body's theme class (the colour theme changed). */
export function onThemeChange(apply: () => void): void {
  new MutationObserver(() => apply()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/**
 * The "Run again" button: disabled at the click, until the host says no run is going (a double-click asks
 * for one run), then `post` asks the host.
 */
export function wireRunAgain(button: HTMLButtonElement, post: () => void): void {
  button.addEventListener('click', () => {
    if (button.disabled) return;
    button.disabled = true;
    post();
  });
}
