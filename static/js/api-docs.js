// Starts Swagger UI on the API's documentation page (templates/api/docs.html). A file of its
// own, not inline: the Content-Security-Policy allows scripts from this site only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Deep links put a link inside each operation's button (nested controls, for screen readers).
    deepLinking: false,
    persistAuthorization: false,
    // The API takes no cookie: nothing to send but the token given to Authorize.
    requestInterceptor: (request) => {
      request.credentials = "omit";
      return request;
    },
  });
});
