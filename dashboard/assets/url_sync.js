// Keep the address bar's query in step with a page's controls, without re-rendering the page, so the view
// can be shared as a link (pages /, /scenarios and /kpi/<id>; see dashboard.components.sync_url).
//
// `url.sync(...values, spec)`: the controls' values in the order of spec.params ([[query name, default], ...]).
// A list is written comma-separated; an empty value, or one equal to its default, is left out of the query.
// spec.keep: start from the current query (the page keeps the parameters it does not sync), else from none.
(function () {
    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        url: {
            sync: function () {
                const values = Array.prototype.slice.call(arguments, 0, -1);
                const spec = arguments[arguments.length - 1] || {params: []};
                const p = new URLSearchParams(spec.keep ? window.location.search : "");
                spec.params.forEach(function (param, i) {
                    const name = param[0];
                    const value = Array.isArray(values[i]) ? values[i].join(",") : values[i];
                    if (value === null || value === undefined || value === "" || value === param[1]) {
                        p.delete(name);
                    } else {
                        p.set(name, value);
                    }
                });
                const s = p.toString();
                window.history.replaceState(null, "", window.location.pathname + (s ? "?" + s : ""));
                return s;
            },
        },
    });
})();
