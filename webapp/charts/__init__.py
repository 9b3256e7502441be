"""Charts drawn on the server as inline SVG: no script, no CDN, so the strict CSP holds."""
