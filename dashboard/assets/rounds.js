// Assessment rounds (pages /rounds and /rounds/<id>): the pages' only I/O.
//
// The browser calls the service's API on the same origin with the session cookie, and sends the principal's
// CSRF token as the X-CSRFToken header on writes; the API checks role, region and the round's state and
// audits every write. These functions only move JSON: Dash's Python callbacks build each request from the
// forms and render every answer (see dashboard/pages/round.py), so the dashboard keeps no write path of
// its own and the API stays the one door into the round store.
(function () {
    async function call(method, url, body, csrf) {
        const headers = {Accept: "application/json"};
        const init = {method: method, credentials: "same-origin", headers: headers};
        if (method !== "GET") {
            headers["X-CSRFToken"] = csrf || "";
        }
        if (body !== null && body !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
        }
        try {
            const response = await fetch(url, init);
            let parsed = null;
            try {
                parsed = await response.json();
            } catch (e) {
                parsed = null;
            }
            return {status: response.status, body: parsed};
        } catch (e) {
            return {status: 0, body: {detail: String(e)}};
        }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        rounds: {
            // GET every address of `urls` ({key: url}); answers {key: {status, body}} (status 0: no answer).
            load: async function (refresh, urls) {
                if (!urls) {
                    return window.dash_clientside.no_update;
                }
                const out = {};
                for (const [key, url] of Object.entries(urls)) {
                    out[key] = await call("GET", url, null, null);
                }
                return out;
            },
            // Send one request built by a Python callback ({action, method, url, body}); answers
            // {action, status, body, at}.
            send: async function (request, csrf) {
                if (!request || !request.url) {
                    return window.dash_clientside.no_update;
                }
                const answer = await call(request.method, request.url, request.body, csrf);
                return Object.assign({action: request.action, at: Date.now()}, answer);
            },
        },
    });
})();
