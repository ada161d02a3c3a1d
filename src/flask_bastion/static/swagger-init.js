// Starts Swagger UI on the docs page; kept in a file so the page needs no inline script.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    withCredentials: true,
    requestInterceptor: function (req) {
      var match = document.cookie.match(/(?:^|;\s*)XSRF-TOKEN=([^;]+)/);
      if (match && req.method && req.method.toUpperCase() !== "GET") {
        req.headers["X-XSRF-TOKEN"] = decodeURIComponent(match[1]);
      }
      return req;
    }
  });
});
