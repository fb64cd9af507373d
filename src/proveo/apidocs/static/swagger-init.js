// Starts Swagger UI on /docs. A file, not an inline script: the CSP allows only our own scripts.
"use strict";

(() => {
  const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

  function cookie(name) {
    const prefix = `${name}=`;
    const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
    return found === undefined ? null : decodeURIComponent(found.slice(prefix.length));
  }

  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    // A logged-in browser sends its session cookie by itself; writes also need the session's
    // CSRF token, which the readable csrf_token cookie holds.
    requestInterceptor: (request) => {
      const token = cookie("csrf_token");
      const write = !SAFE_METHODS.has((request.method || "GET").toUpperCase());
      if (token && write && !request.headers["X-CSRF-Token"]) {
        request.headers["X-CSRF-Token"] = token;
      }
      return request;
    },
  });
})();
