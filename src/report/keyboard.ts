/// <reference lib="dom" />
/**
 * Keyboard navigation of the release page. Every lane and every bar is in the tab order (Tab / Shift+Tab); the
 * arrow keys move too: Up/Down between sites, Right/Left along a site's steps, Home/End to the first/last site,
 * Escape from a step back to its site. A focused step is read into the live region (#shr-detail).
 *
 * {@link installKeyboard} must stay self-contained (no reference outside its body): page.ts embeds its source text
 * in the standalone HTML file.
 */
export function installKeyboard(doc: Document): void {
  // delegated to the document: the results tab replaces the page's content when the build changes
  const root = doc;
  const lanes = (): HTMLElement[] => Array.prototype.slice.call(root.querySelectorAll('.shr-lane'));
  const barsOf = (lane: Element): HTMLElement[] => Array.prototype.slice.call(lane.querySelectorAll('.shr-bar'));
  root.addEventListener('focusin', (ev: Event) => {
    const t = ev.target as HTMLElement;
    const detail = doc.getElementById('shr-detail');
    if (detail && t && t.classList && (t.classList.contains('shr-bar') || t.classList.contains('shr-lane'))) detail.textContent = t.getAttribute('aria-label');
  });
  root.addEventListener('keydown', (ev: Event) => {
    const e = ev as KeyboardEvent;
    const t = e.target as HTMLElement;
    if (!t || !t.classList) return;
    const all = lanes();
    const isBar = t.classList.contains('shr-bar');
    const lane = isBar ? (t.closest('.shr-lane') as HTMLElement) : t.classList.contains('shr-lane') ? t : null;
    if (!lane) return;
    const li = all.indexOf(lane);
    let next: HTMLElement | undefined;
    if (e.key === 'ArrowDown') next = all[Math.min(all.length - 1, li + 1)];
    else if (e.key === 'ArrowUp') next = all[Math.max(0, li - 1)];
    else if (e.key === 'Home') next = all[0];
    else if (e.key === 'End') next = all[all.length - 1];
    else if (e.key === 'Escape' && isBar) next = lane;
    else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const bars = barsOf(lane);
      if (!bars.length) return;
      const bi = isBar ? bars.indexOf(t) : -1;
      if (e.key === 'ArrowRight') next = bars[Math.min(bars.length - 1, bi + 1)];
      else next = bi <= 0 ? lane : bars[bi - 1];
    }
    if (next) {
      e.preventDefault();
      next.focus();
    }
  });
}
