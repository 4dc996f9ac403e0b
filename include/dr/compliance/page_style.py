"""How the compliance page looks like part of Airflow: its stylesheet, and the one small
script that follows the Airflow UI's theme.

The page is an external view: Airflow shows it in a same-origin iframe. Airflow's UI
(next-themes with Chakra) marks its theme as the class ``light`` or ``dark`` on its
``<html>`` and keeps the choice in ``localStorage["theme"]`` (``light``, ``dark`` or
``system``). The script copies that class onto this page's ``<html>`` and watches it, so
switching the theme in Airflow's user menu switches the page at once; opened on its own,
the page follows the stored choice, then the browser's colour scheme. Each chart is on
the page in both themes and the stylesheet shows the one that matches.
"""

from __future__ import annotations

HEAD_SCRIPT = """(function(){
var d=document.documentElement,m=window.matchMedia('(prefers-color-scheme: dark)');
function parentHtml(){try{var p=window.parent.document.documentElement;
return p===d?null:p}catch(x){return null}}
function dark(){var p=parentHtml();
var c=p?p.classList:null;
if(c&&(c.contains('dark')||c.contains('light')))return c.contains('dark');
var t=null;try{t=localStorage.getItem('theme')}catch(x){}
if(t==='dark')return true;if(t==='light')return false;return m.matches}
function apply(){var k=dark();d.classList.toggle('dark',k);d.classList.toggle('light',!k)}
apply();var p=parentHtml();
if(p)new MutationObserver(apply).observe(p,{attributes:true,attributeFilter:['class']});
m.addEventListener('change',apply);window.addEventListener('storage',apply)})();"""

STYLE = """
:root{--bg:#ffffff;--fg:#18181b;--muted:#52525b;--line:#e4e4e7;--head:#f4f4f5;
--link:#1d4ed8;--pass:#1e7e46;--warn:#8a5a00;--fail:#b42318;color-scheme:light}
html.dark{--bg:#111111;--fg:#f4f4f5;--muted:#a1a1aa;--line:#3f3f46;--head:#27272a;
--link:#93c5fd;--pass:#4ade80;--warn:#fbbf24;--fail:#f87171;color-scheme:dark}
@media (prefers-color-scheme: dark){html:not(.light){--bg:#111111;--fg:#f4f4f5;
--muted:#a1a1aa;--line:#3f3f46;--head:#27272a;--link:#93c5fd;--pass:#4ade80;
--warn:#fbbf24;--fail:#f87171;color-scheme:dark}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,
'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{max-width:1280px;padding:16px 24px 32px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}
a{color:var(--link)}nav{color:var(--muted);margin-bottom:8px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid var(--line);padding:4px 8px;vertical-align:top;text-align:left;
overflow-wrap:anywhere}
th{background:var(--head);font-weight:600;overflow-wrap:normal}
td a{overflow-wrap:normal}td .status{white-space:nowrap}
.status{font-weight:700}.status.pass{color:var(--pass)}.status.warn{color:var(--warn)}
.status.fail{color:var(--fail)}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
time{text-decoration:underline dotted;text-underline-offset:2px}
figure{margin:12px 0 20px;min-width:0}
figcaption{color:var(--muted);font-size:13px}
.charts svg{max-width:100%;height:auto;display:block}
.chart.theme-dark{display:none}
html.dark .chart.theme-dark{display:block}html.dark .chart.theme-light{display:none}
@media (prefers-color-scheme: dark){html:not(.light) .chart.theme-dark{display:block}
html:not(.light) .chart.theme-light{display:none}}
details summary{cursor:pointer;color:var(--link)}
details table{font-size:12px}
.pair{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,520px),1fr));
gap:0 24px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
"""
