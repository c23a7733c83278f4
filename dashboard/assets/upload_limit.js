// The Data page's upload refuses a file over the size limit in the browser, before anything is sent
// (dcc.Upload's max_size; a big file would otherwise hit the server's request-size cap and fail without
// a word). dcc.Upload drops such a file silently, so report it to Dash: the `upload-refused` store gets
// the file's name and size, and the page shows the same message the server gives an oversized file.
// The limit is the data-max-bytes attribute of the element around the upload.
(function () {
    function report(files, holder) {
        const limit = Number(holder.getAttribute("data-max-bytes"));
        if (!limit || !files || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        for (const file of Array.from(files)) {
            if (file.size > limit) {
                window.dash_clientside.set_props("upload-refused", {
                    data: {filename: file.name, size: file.size, at: Date.now()},
                });
                return;
            }
        }
    }
    function holderOf(target) {
        return target && target.closest ? target.closest("[data-max-bytes]") : null;
    }
    // Capture phase: seen before dcc.Upload's own handlers, whatever they do with the event.
    document.addEventListener("change", function (event) {
        const holder = holderOf(event.target);
        if (holder && event.target.files) {
            report(event.target.files, holder);
        }
    }, true);
    document.addEventListener("drop", function (event) {
        const holder = holderOf(event.target);
        if (holder && event.dataTransfer) {
            report(event.dataTransfer.files, holder);
        }
    }, true);
})();
