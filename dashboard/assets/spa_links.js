// Internal links inside HTML tables (one Dash component per table, see components.data_table) navigate
// like dcc.Link: push the new address and tell Dash's Location components, without reloading the page.
document.addEventListener("click", function (event) {
    const anchor = event.target.closest ? event.target.closest("a[data-spa]") : null;
    if (!anchor || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
    }
    event.preventDefault();
    window.history.pushState({}, "", anchor.getAttribute("href"));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
});
