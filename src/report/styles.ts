/**
 * The release page's style sheet. System fonts only (no web font, nothing fetched). Colours come from the Azure
 * DevOps theme variables when the page runs in the results tab (the SDK sets them on :root), and otherwise follow
 * `prefers-color-scheme` (the standalone HTML file).
 */
export const REPORT_CSS = `
.shr{--shr-bg:var(--background-color,#ffffff);--shr-fg:var(--text-primary-color,#1f1f1f);--shr-muted:var(--text-secondary-color,#5c5c5c);
--shr-line:var(--palette-black-alpha-10,#d6d6d6);--shr-panel:var(--palette-black-alpha-4,#f4f4f4);--shr-focus:var(--focus-border-color,#0063b1);
--shr-ok:#107c10;--shr-failed:#c4314b;--shr-rb:#a86200;--shr-rbfail:#7a0019;--shr-bar-fg:#ffffff;
--shr-banner-bg:var(--status-error-background,#fde7e9);--shr-banner-fg:var(--status-error-foreground,#a80000);
color-scheme:light dark;background:var(--shr-bg);color:var(--shr-fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;padding:16px 20px;margin:0;min-height:100%}
@media (prefers-color-scheme:dark){.shr{--shr-bg:var(--background-color,#1b1b1b);--shr-fg:var(--text-primary-color,#f0f0f0);
--shr-muted:var(--text-secondary-color,#b3b3b3);--shr-line:var(--palette-black-alpha-10,#3d3d3d);--shr-panel:var(--palette-black-alpha-4,#262626);
--shr-focus:var(--focus-border-color,#6cb8f6);--shr-ok:#2e9e2e;--shr-failed:#e0475f;--shr-rb:#c98a1b;--shr-rbfail:#ff6b81;--shr-bar-fg:#000000;
--shr-banner-bg:var(--status-error-background,#442726);--shr-banner-fg:var(--status-error-foreground,#ff9aa2)}}
html,body{margin:0;padding:0}
.shr h1{font-size:20px;margin:0 0 4px;font-weight:600}
.shr h2{font-size:15px;margin:0;font-weight:600}
.shr h3{font-size:14px;margin:16px 0 6px;font-weight:600}
.shr .shr-meta{color:var(--shr-muted);margin:0 0 12px}
.shr .shr-meta code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.shr .shr-result{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;border:1px solid currentColor}
.shr .shr-result[data-result="succeeded"],.shr .shr-result[data-result="unchanged"]{color:var(--shr-ok)}
.shr .shr-result[data-result="rolled-back"]{color:var(--shr-rb)}
.shr .shr-result[data-result="failed"],.shr .shr-result[data-result="rollback-failed"],.shr .shr-result[data-result="preflight-failed"]{color:var(--shr-failed)}
.shr .shr-banner{background:var(--shr-banner-bg);color:var(--shr-banner-fg);border:2px solid var(--shr-banner-fg);border-radius:4px;padding:10px 14px;margin:0 0 14px;font-weight:600}
.shr .shr-banner ul{margin:4px 0 0;padding-left:20px;font-weight:400}
.shr .shr-lanes{list-style:none;margin:0;padding:0}
.shr .shr-lane{border:1px solid var(--shr-line);border-radius:4px;margin:0 0 10px;padding:8px 10px;background:var(--shr-panel)}
.shr .shr-lane[data-operator="true"]{border:2px solid var(--shr-failed)}
.shr .shr-lane:focus,.shr .shr-bar:focus{outline:3px solid var(--shr-focus);outline-offset:2px}
.shr .shr-lane-head{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline}
.shr .shr-status{font-weight:600}
.shr .shr-status[data-status="succeeded"],.shr .shr-status[data-status="unchanged"],.shr .shr-status[data-status="preflight-ok"]{color:var(--shr-ok)}
.shr .shr-status[data-status="rolled-back"]{color:var(--shr-rb)}
.shr .shr-status[data-status="failed"],.shr .shr-status[data-status="rollback-failed"],.shr .shr-status[data-status="preflight-failed"]{color:var(--shr-failed)}
.shr .shr-facts{display:flex;flex-wrap:wrap;gap:2px 18px;margin:4px 0 6px;padding:0;color:var(--shr-muted)}
.shr .shr-facts div{display:flex;gap:4px}
.shr .shr-facts dt{font-weight:600}
.shr .shr-facts dd{margin:0;color:var(--shr-fg)}
.shr .shr-track{position:relative;height:30px;border-top:1px dashed var(--shr-line);border-bottom:1px dashed var(--shr-line);margin:4px 0}
.shr .shr-bar{position:absolute;top:3px;height:24px;min-width:6px;box-sizing:border-box;border-radius:3px;padding:0 4px;overflow:hidden;white-space:nowrap;
font-size:12px;line-height:22px;color:var(--shr-bar-fg);cursor:default;border:1px solid var(--shr-panel)}
.shr .shr-bar[data-tone="ok"]{background:var(--shr-ok)}
.shr .shr-bar[data-tone="failed"]{background:var(--shr-failed)}
.shr .shr-bar[data-tone="rollback-ok"]{background:var(--shr-rb)}
.shr .shr-bar[data-tone="rollback-failed"]{background:repeating-linear-gradient(45deg,var(--shr-rbfail) 0 6px,var(--shr-failed) 6px 12px)}
.shr .shr-error{color:var(--shr-failed);margin:2px 0 0;white-space:pre-wrap;word-break:break-word}
.shr .shr-axis{display:flex;justify-content:space-between;color:var(--shr-muted);font-size:12px;margin:0 0 10px}
.shr .shr-legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 10px;padding:0;list-style:none;font-size:12px}
.shr .shr-legend span{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
.shr table{border-collapse:collapse;margin:0 0 12px}
.shr th,.shr td{border:1px solid var(--shr-line);padding:3px 8px;text-align:left;vertical-align:top}
.shr th{background:var(--shr-panel)}
.shr .shr-detail{min-height:1.4em;margin:0 0 12px;padding:6px 10px;border-left:3px solid var(--shr-focus);background:var(--shr-panel)}
.shr .shr-notes{color:var(--shr-muted)}
.shr .shr-empty{color:var(--shr-muted);font-style:italic}
`;
