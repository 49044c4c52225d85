// Search result snippets show a page's prose: Sphinx cuts them from the page's [role="main"] text, which in
// this theme also holds the article header's buttons ("System Settings Light Dark"), the print-only table of
// contents, the footer and the code of hidden plumbing cells. Those are removed before Sphinx reads the text.
(() => {
  if (typeof Search === "undefined" || typeof Search.htmlToText !== "function") return;
  const sphinxHtmlToText = Search.htmlToText;
  const notProse = [
    ".bd-header-article", ".onlyprint", ".prev-next-area", "footer",
    ".cell details.hide", ".tag_remove-input .cell_input", "summary",
  ].join(", ");
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(notProse).forEach((el) => el.remove());
    return sphinxHtmlToText(doc.documentElement.outerHTML, anchor);
  };
})();
