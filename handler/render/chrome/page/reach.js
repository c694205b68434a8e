// renderzip reach report: installed before any script of the composition runs.
//
// Some ways out of a page give the debugging protocol no request to pause: a
// fetch of a file:// URL is refused inside Blink, link hints (preconnect,
// dns-prefetch, prefetch, prerender) open sockets without a request,
// window.open, service workers, WebRTC ICE servers and WebTransport go through
// their own channels. Chrome's flags and the request guard keep them closed;
// this script names each attempt through a binding (its one argument), so that the plan
// refuses the page like any other that tried to leave its directory.
((binding) => {
  "use strict";
  const report = window[binding];
  if (typeof report !== "function") return;

  const absolute = (url) => {
    try {
      return new URL(String(url), document.baseURI).href;
    } catch {
      return String(url);
    }
  };
  const tell = (url) => {
    try {
      report(absolute(url));
    } catch {
      // A binding that cannot be called leaves the channel closed all the same.
    }
  };

  const realFetch = window.fetch;
  if (typeof realFetch === "function") {
    window.fetch = function fetch(input, init) {
      tell(input instanceof Request ? input.url : input);
      return realFetch.call(this, input, init);
    };
  }

  window.open = function open(url) {
    if (url !== undefined && String(url) !== "") tell(url);
    return null; // a render has no second window
  };

  const container = navigator.serviceWorker;
  if (container && typeof container.register === "function") {
    container.register = function register(url) {
      tell(url);
      return Promise.reject(new DOMException("a render registers no service worker", "SecurityError"));
    };
  }

  const iceUrls = (configuration) => {
    const servers = (configuration && configuration.iceServers) || [];
    for (const server of servers) {
      for (const url of [].concat((server && (server.urls || server.url)) || [])) tell(url);
    }
  };
  for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection"]) {
    const Real = window[name];
    if (typeof Real !== "function") continue;
    const setConfiguration = Real.prototype.setConfiguration;
    if (typeof setConfiguration === "function") {
      Real.prototype.setConfiguration = function (configuration) {
        iceUrls(configuration);
        return setConfiguration.call(this, configuration);
      };
    }
    window[name] = new Proxy(Real, {
      construct(target, args, newTarget) {
        iceUrls(args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
  }

  if (typeof window.WebTransport === "function") {
    window.WebTransport = new Proxy(window.WebTransport, {
      construct(target, args, newTarget) {
        tell(args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
  }

  const HINTS = new Set(["preconnect", "dns-prefetch", "prefetch", "prerender"]);
  const scan = (node) => {
    if (!node || node.nodeType !== Node.ELEMENT_NODE) return;
    const links = node.matches("link[href]") ? [node] : [];
    links.push(...node.querySelectorAll("link[href]"));
    for (const link of links) {
      if ([...link.relList].some((rel) => HINTS.has(rel.toLowerCase()))) tell(link.getAttribute("href"));
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") scan(record.target);
      for (const node of record.addedNodes) scan(node);
    }
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["href", "rel"] });
})
