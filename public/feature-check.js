// The page's #unsupported box is visible by default; only an engine that can run the app
// (WebAssembly + ES modules) hides it, by marking <html>. So an old engine — e.g. an old
// WeChat in-app browser — that cannot even parse this script (release builds minify it
// to modern syntax) still shows the fallback instead of a blank page.
(function () {
  if (typeof WebAssembly === "object" && typeof WebAssembly.instantiate === "function" &&
      "noModule" in document.createElement("script")) {
    document.documentElement.className += " wasm-ok";
  }
})();
