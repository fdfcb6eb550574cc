"""The dashboard: server-rendered pages (Jinja2), a stylesheet and a small script, no CDN."""
