// Cell renderers for the dashboard's dash-ag-grid tables (components.grid). Every cell's text is passed to
// React as a text child, never as markup, so stored text (a scenario's name, a file name) shows as typed.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

// An in-app link: Dash's own dcc.Link, so the page changes without a reload. Params: hrefField, className.
dagcomponentfuncs.AppLink = function (props) {
    const href = props.data[props.hrefField];
    if (!href) { return props.value; }
    return React.createElement(window.dash_core_components.Link, {href: href, className: props.className}, props.value);
};

// A link to another site (the MLflow UI), in a new tab. Params: hrefField, className.
dagcomponentfuncs.ExternalLink = function (props) {
    const href = props.data[props.hrefField];
    if (!href) { return props.value; }
    return React.createElement("a", {href: href, className: props.className, target: "_blank", rel: "noopener"}, props.value);
};

// A status chip: icon and words on a colour-blind-safe background (the colour comes from the CSS class).
// Params: keyField (the status key: achieved, on_track, at_risk, off_track, unknown).
dagcomponentfuncs.StatusChip = function (props) {
    const key = props.data[props.keyField] || "unknown";
    return React.createElement("span", {className: "status-chip status-" + key, "data-status": key, title: props.value}, props.value);
};

// A cell whose background fills a fraction of its width. Params: fractionField, className.
dagcomponentfuncs.FillBar = function (props) {
    const f = props.data[props.fractionField];
    if (f === null || f === undefined) { return props.value; }
    const fill = Math.round(Math.max(0, Math.min(1, f)) * 100) + "%";
    const style = {background: "linear-gradient(90deg, #bcd9ee " + fill + ", #eef1f4 " + fill + ")"};
    return React.createElement("div", {className: props.className, style: style}, props.value);
};

// The rank interval bar: a band from lo to hi out of n and a tick at the rank. Params: bandField, tickField.
dagcomponentfuncs.RankInterval = function (props) {
    const band = props.data[props.bandField];
    const tick = props.data[props.tickField];
    if (!band) { return props.value; }
    const grad = function (a, b, colour) {
        return "linear-gradient(90deg, transparent " + a + "%, " + colour + " " + a + "%, " + colour + " " + b + "%, transparent " + b + "%)";
    };
    const style = {background: grad(tick[0], tick[1], "#000") + ", " + grad(band[0], band[1], "#56B4E9") + ", #eef1f4"};
    return React.createElement("div", {className: "rank-bar", style: style}, props.value);
};
