// renderzip virtual time: installed before any script of the composition runs.
//
// Time is a pure function of the frame index: frame i shows t = i / fps.
// Date, performance.now, requestAnimationFrame and timers follow the virtual
// clock; Math.random is a seeded generator reseeded from the frame index at
// each seek. window.__renderzip.seek(frameIndex, fps) moves the page to a
// frame and resolves once it is ready to be drawn.
(() => {
  "use strict";
  if (window.__renderzip) return;

  const EPOCH_MS = Date.UTC(2000, 0, 1); // Date.now() at t = 0
  const LOAD_SEED = 0x5eed1e55; // Math.random before the first seek
  const MAX_TIMER_RUNS = 100000; // per seek: a runaway interval fails loudly
  const EPSILON_S = 1e-9;

  const RealDate = Date;
  let nowMs = 0;

  // --- Math.random: mulberry32 -------------------------------------------
  let state = LOAD_SEED >>> 0;
  const reseed = (n) => {
    // Spread consecutive frame indices over the whole state space.
    let x = (Math.imul(n + 1, 0x9e3779b9) ^ LOAD_SEED) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    state = (x ^ (x >>> 13)) >>> 0;
  };
  Math.random = function random() {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };

  // --- clocks ----------------------------------------------------------------
  const dateNow = () => EPOCH_MS + Math.floor(nowMs);
  function VirtualDate(...args) {
    if (!new.target) return new RealDate(dateNow()).toString();
    return args.length === 0 ? new RealDate(dateNow()) : new RealDate(...args);
  }
  VirtualDate.prototype = RealDate.prototype;
  VirtualDate.now = dateNow;
  VirtualDate.parse = RealDate.parse;
  VirtualDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", { value: VirtualDate, writable: true, configurable: true });
  window.Date = VirtualDate;
  performance.now = () => nowMs;

  // --- requestAnimationFrame: once per seek ----------------------------------
  let rafCallbacks = new Map();
  let nextRafId = 1;
  window.requestAnimationFrame = (callback) => {
    const id = nextRafId++;
    rafCallbacks.set(id, callback);
    return id;
  };
  window.cancelAnimationFrame = (id) => {
    rafCallbacks.delete(id);
  };

  // --- timers: fire in due order as virtual time passes ----------------------
  const timers = new Map();
  let nextTimerId = 1;
  let timerSeq = 0;
  const addTimer = (handler, delay, args, repeat) => {
    const id = nextTimerId++;
    const wait = Math.max(0, Number(delay) || 0);
    const fn = typeof handler === "function" ? handler : () => (0, eval)(String(handler));
    timers.set(id, { id, fn, args, due: nowMs + wait, seq: timerSeq++, every: repeat ? Math.max(1, wait) : 0 });
    return id;
  };
  window.setTimeout = (handler, delay, ...args) => addTimer(handler, delay, args, false);
  window.setInterval = (handler, delay, ...args) => addTimer(handler, delay, args, true);
  window.clearTimeout = (id) => {
    timers.delete(id);
  };
  window.clearInterval = window.clearTimeout;

  const nextDue = (limit) => {
    let best = null;
    for (const timer of timers.values()) {
      if (timer.due <= limit && (best === null || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq))) {
        best = timer;
      }
    }
    return best;
  };

  // --- animations: paused and placed at the frame's time ----------------------
  const animationStart = new WeakMap(); // animation -> virtual ms when it came to exist
  const stamp = (at) => {
    for (const animation of document.getAnimations()) {
      if (!animationStart.has(animation)) animationStart.set(animation, at);
    }
  };
  const seekAnimations = (t) => {
    for (const animation of document.getAnimations()) {
      if (animation.timeline && animation.timeline !== document.timeline) continue; // scroll-driven
      const start = animationStart.has(animation) ? animationStart.get(animation) : t;
      animation.pause();
      animation.currentTime = Math.max(0, t - start) * animation.playbackRate;
    }
  };

  // SVG's own (SMIL) animations run on each outermost <svg>'s clock, not on document.timeline.
  const seekSvgClocks = (seconds) => {
    for (const svg of document.querySelectorAll("svg")) {
      if (svg.ownerSVGElement || typeof svg.setCurrentTime !== "function") continue;
      svg.pauseAnimations();
      svg.setCurrentTime(seconds);
    }
  };

  const runTimers = (t, errors) => {
    let runs = 0;
    for (let timer = nextDue(t); timer !== null; timer = nextDue(t)) {
      if (++runs > MAX_TIMER_RUNS) throw new Error(`more than ${MAX_TIMER_RUNS} timer callbacks before ${t} ms`);
      nowMs = timer.due;
      if (timer.every) {
        timer.due += timer.every;
        timer.seq = timerSeq++;
      } else {
        timers.delete(timer.id);
      }
      try {
        timer.fn(...timer.args);
      } catch (error) {
        errors.push(error);
      }
      stamp(nowMs);
    }
    nowMs = t;
  };

  const runAnimationFrames = (t, errors) => {
    const callbacks = rafCallbacks;
    rafCallbacks = new Map(); // callbacks registered now run next frame
    for (const callback of callbacks.values()) {
      try {
        callback(t);
      } catch (error) {
        errors.push(error);
      }
    }
  };

  // --- the composition ---------------------------------------------------------
  const findRoot = () =>
    document.querySelector("[data-composition-id]") ||
    (document.documentElement.matches("[data-width][data-height]") ? document.documentElement : null) ||
    (document.body && document.body.matches("[data-width][data-height]") ? document.body : null) ||
    document.querySelector("body > [data-width][data-height]") ||
    document.querySelector("[data-width][data-height]");

  // --- sub-compositions: data-composition-src hosts -------------------------------
  // The plan reads every file a host names (and the files those name) and hands their text to
  // the page before it loads: a file:// page may not fetch its neighbours. Each host gets the
  // file's <template> (else its body): styles scoped to the host, markup inside it, then its
  // scripts in order, inside the host, so document.currentScript finds its own instance.
  const sources = () => window.__renderzipSources || {};
  const resolveSource = (reference, base) => {
    // Bare paths are relative to the composition's directory; ./ and ../ to the file that names them.
    const relative = /^\.\.?\//.test(reference) ? new URL(reference, new URL(base, "file:///root/")).pathname : "/root/" + reference;
    const path = new URL(relative, "file:///").pathname;
    return path.startsWith("/root/") ? decodeURIComponent(path.slice("/root/".length)) : null;
  };
  const hostSelector = (id) => `[data-composition-id="${CSS.escape(id)}"]`;
  const scopeSelector = (selector, scope, innerId) =>
    selector
      .split(",")
      .map((part) => {
        const text = part.trim();
        if (!text) return text;
        if (/^(:root|html|body)\b/.test(text)) return text.replace(/^(:root|html|body)/, scope);
        if (innerId && text.startsWith(hostSelector(innerId))) return scope + text.slice(hostSelector(innerId).length);
        return `${scope} ${text}`;
      })
      .join(", ");
  const scopeRules = (rules, scope, innerId) => {
    for (const rule of Array.from(rules)) {
      if (rule instanceof CSSStyleRule) rule.selectorText = scopeSelector(rule.selectorText, scope, innerId);
      else if (rule.cssRules) scopeRules(rule.cssRules, scope, innerId);
    }
  };
  const scopedCss = (text, scope, innerId) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text); // @import is not allowed here: a sub-composition's CSS is its own
    scopeRules(sheet.cssRules, scope, innerId);
    return Array.from(sheet.cssRules, (rule) => rule.cssText).join("\n");
  };
  const instanceCount = new Map();

  // --- what a sub-composition's script sees -------------------------------------
  // As HyperFrames scopes it: document's queries, gsap's string targets and getVariables() answer
  // for this instance only, and a selector naming the file's id names this instance's host.
  const RealDocument = document;
  const scopeHandles = new Map(); // handle -> the arguments one wrapped script is called with
  let nextScopeHandle = 1;
  Object.defineProperty(window, "__renderzipScope", {
    value: (handle) => {
      const scope = scopeHandles.get(handle);
      scopeHandles.delete(handle);
      if (!scope) throw new Error("a sub-composition script ran twice");
      return scope;
    },
    enumerable: false,
  });
  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const TIMING_ATTRIBUTE = String.raw`\[\s*data-(?:start|duration)\s*=\s*(?:"[^"]*"|'[^']*')\s*\]`;
  const selectorRewriter = (authoredId, runtimeId) => {
    const id = escapeRegExp(authoredId);
    const named = String.raw`\[\s*data-composition-id\s*=\s*(?:"${id}"|'${id}')\s*\]`;
    // The file's root, with any timing attributes beside it, is this instance's host.
    const pattern = new RegExp(`(?:${TIMING_ATTRIBUTE})*${named}(?:${TIMING_ATTRIBUTE})*`, "g");
    const host = hostSelector(runtimeId);
    return (selector) => (typeof selector === "string" ? selector.replace(pattern, host) : selector);
  };
  // Natives (no prototype) need the real object as `this`; classes and plain functions keep their own.
  const boundMember = (target, cache) => (value) => {
    if (typeof value !== "function" || "prototype" in value) return value;
    if (!cache.has(value)) cache.set(value, value.bind(target));
    return cache.get(value);
  };
  // An attribute's JSON, or `fallback` when it is absent; text that is not JSON fails, named.
  const jsonAttribute = (element, name, fallback, label = "") => {
    const text = element ? element.getAttribute(name) : null;
    if (!text) return fallback;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${label}${name} is not JSON: ${error.message}`);
    }
  };
  const declaredDefaults = (element) => {
    const declared = jsonAttribute(element, "data-composition-variables", []);
    if (!Array.isArray(declared)) throw new Error("data-composition-variables is not a JSON array of {id, default}");
    const defaults = {};
    for (const entry of declared) {
      if (entry && typeof entry === "object" && typeof entry.id === "string" && "default" in entry) defaults[entry.id] = entry.default;
    }
    return defaults;
  };
  const hostValues = (host, reference) => {
    const values = jsonAttribute(host, "data-variable-values", {}, `sub-composition ${reference}: `);
    if (!values || typeof values !== "object" || Array.isArray(values)) {
      throw new Error(`sub-composition ${reference}: data-variable-values is not a JSON object`);
    }
    return values;
  };
  // The root's window.__hyperframes.getVariables(): the declared defaults (<html> first, then each
  // element that declares some) under Config.Variables. A fresh copy each call, so a script that
  // changes what it got cannot change what the next frame, or another chunk, reads.
  const api = (window.__hyperframes = window.__hyperframes || {});
  api.getVariables = () => {
    const merged = {};
    for (const element of RealDocument.querySelectorAll("[data-composition-variables]")) {
      Object.assign(merged, declaredDefaults(element)); // document order: <html> first
    }
    return Object.assign(merged, JSON.parse(window.__renderzipVariables || "{}"));
  };
  // A view of `target` in which `overrides` stand for some members; the rest, and every write, are
  // the target's own. A callable target's calls go through `call` when one is given.
  const overlay = (target, overrides, call) => {
    const members = new Map();
    return new Proxy(target, {
      get(object, property) {
        if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property];
        return boundMember(object, members)(Reflect.get(object, property, object));
      },
      set(object, property, value) {
        return Reflect.set(object, property, value, object);
      },
      ...(call ? { apply: (object, self, args) => call(self, args) } : {}),
    });
  };
  // Wraps `methods` of `owner` in place, so that their first argument goes through `map` first.
  const mapFirstArgument = (owner, methods, map) => {
    for (const method of methods) {
      const original = owner && owner[method];
      if (typeof original !== "function") continue;
      owner[method] = function (first, ...rest) {
        return original.call(this, map(first), ...rest);
      };
    }
    return owner;
  };
  const makeScope = (host, runtimeId, authoredId, variables) => {
    const rewrite = selectorRewriter(authoredId, runtimeId);
    const within = (root) => (node) => node === root || root.contains(node);
    const inside = within(host);
    const queryIn = (root) => (selector) => Array.from(RealDocument.querySelectorAll(rewrite(selector))).filter(within(root));
    const queryAll = queryIn(host);
    const queryOne = (selector) => queryAll(selector)[0] || null;
    const byId = (id) => {
      const found = RealDocument.getElementById(id);
      if (found && inside(found)) return found;
      return host.id === String(id) ? host : host.querySelector(`[id="${CSS.escape(String(id))}"]`);
    };
    const scopedDocument = overlay(RealDocument, { querySelector: queryOne, querySelectorAll: queryAll, getElementById: byId });
    const targets = (target) => (typeof target === "string" ? queryAll(target) : target);
    const TWEENS = ["to", "from", "fromTo", "set"];
    const scopeTweens = (timeline) => mapFirstArgument(timeline, TWEENS, targets);
    // Made for each script, so a library that an earlier script of the instance loaded is seen.
    const baseGsap = window.gsap;
    const scopedGsap = baseGsap && typeof baseGsap === "object"
      ? overlay(baseGsap, {
          timeline: (...args) => scopeTweens(baseGsap.timeline(...args)),
          ...Object.fromEntries(TWEENS.map((name) => [name, (first, ...rest) => baseGsap[name](targets(first), ...rest)])),
          ...(baseGsap.utils
            ? {
                utils: Object.assign(Object.create(baseGsap.utils), {
                  toArray: (value, ...rest) => baseGsap.utils.toArray(targets(value), ...rest),
                  selector: (base) => queryIn((typeof base === "string" ? queryOne(base) : base) || host),
                }),
              }
            : {}),
        })
      : baseGsap;
    // anime.js: string targets resolve inside the instance, and its registrations are its own
    // (kept as "<runtime id>::<id>", whose host gives the clock they are seeked on).
    const animeTargets = (value) => {
      if (typeof value === "string") return queryAll(value);
      if (value && typeof value === "object" && !Array.isArray(value) && typeof value.targets === "string") {
        return Object.assign({}, value, { targets: queryAll(value.targets) });
      }
      return value;
    };
    const scopeAnimeTimeline = (timeline) => mapFirstArgument(timeline, ["add", "set"], animeTargets);
    const baseAnime = window.anime;
    const scopedAnime = baseAnime && (typeof baseAnime === "object" || typeof baseAnime === "function")
      ? overlay(
          baseAnime,
          {
            animate: (first, ...rest) => baseAnime.animate(animeTargets(first), ...rest),
            set: (first, ...rest) => baseAnime.set(animeTargets(first), ...rest),
            createTimeline: (...args) => scopeAnimeTimeline(baseAnime.createTimeline(...args)),
            timeline: (...args) => scopeAnimeTimeline(baseAnime.timeline(...args)),
          },
          // anime.js 3: anime({ targets })
          typeof baseAnime === "function" ? (self, [first, ...rest]) => baseAnime.call(self, animeTargets(first), ...rest) : undefined,
        )
      : baseAnime;
    const ownId = (id) => `${runtimeId}::${id}`;
    const baseRegistry = window.hyperframesAnime;
    const scopedAnimeRegistry = Object.assign({}, baseRegistry, {
      register: (id, instance, options) => {
        const registration = baseRegistry.register(ownId(id), instance, options);
        return Object.assign({}, registration, { id: String(id) });
      },
      unregister: (id) => baseRegistry.unregister(ownId(id)),
      get: (id) => baseRegistry.get(ownId(id)),
      entries: () => baseRegistry.entries().filter((entry) => entry.id.startsWith(ownId(""))),
    });
    const scopedHyperframes = Object.assign({}, window.__hyperframes, {
      getVariables: () => JSON.parse(JSON.stringify(variables)),
    });
    const scopedWindow = overlay(window, {
      __hyperframes: scopedHyperframes,
      hyperframesAnime: scopedAnimeRegistry,
      anime: scopedAnime,
    });
    return [scopedDocument, scopedWindow, scopedGsap, scopedHyperframes, scopedAnime, scopedAnimeRegistry];
  };
  const PARAMETERS = "document, window, gsap, __hyperframes, anime, hyperframesAnime";
  const scopedSource = (text, scope, module) => {
    const handle = nextScopeHandle++;
    scopeHandles.set(handle, scope);
    // A module keeps its imports at the top level, so its names are shadowed by declarations there.
    if (module) return `const [${PARAMETERS}] = globalThis.__renderzipScope(${handle});\n${text}`;
    return `(function (${PARAMETERS}) {\n${text}\n}).apply(window, window.__renderzipScope(${handle}));`;
  };

  const runScript = (host, original, runtimeId, authoredId, scope) =>
    new Promise((resolve, reject) => {
      const script = document.createElement("script");
      for (const attribute of original.attributes) script.setAttribute(attribute.name, attribute.value);
      const src = original.getAttribute("src");
      const registry = window.__timelines && typeof window.__timelines === "object" ? window.__timelines : {};
      window.__timelines = registry;
      // A second instance registers its timeline under its own runtime id, not the file's.
      const redirect = runtimeId !== authoredId;
      if (src) {
        script.async = false;
        script.addEventListener("load", () => resolve(), { once: true });
        script.addEventListener("error", () => reject(new Error(`sub-composition ${authoredId}: cannot load script ${src}`)), { once: true });
        host.appendChild(script);
        return;
      }
      // The first instance's timeline steps aside while the script runs, and comes back after.
      const firstInstance = redirect ? registry[authoredId] : undefined;
      if (redirect) delete registry[authoredId];
      // In a function of its own, as HyperFrames runs it, each instance's top-level names are its
      // own: two instances of one file do not collide in the page's global scope.
      const type = (original.getAttribute("type") || "").trim().toLowerCase();
      const classic = type === "" || type === "text/javascript" || type === "application/javascript";
      const module = type === "module";
      script.textContent = classic || module ? scopedSource(original.textContent, scope, module) : original.textContent;
      const errors = [];
      const onError = (event) => errors.push(event.error || new Error(String(event.message)));
      window.addEventListener("error", onError);
      host.appendChild(script); // an inline script runs as it is inserted
      window.removeEventListener("error", onError);
      if (redirect) {
        if (registry[authoredId] !== undefined) registry[runtimeId] = registry[authoredId];
        if (firstInstance !== undefined) registry[authoredId] = firstInstance;
        else delete registry[authoredId];
      }
      if (errors.length) reject(errors[0]);
      else resolve();
    });
  const mountedHosts = new WeakSet();
  const mountHost = async (host, base, depth) => {
    mountedHosts.add(host);
    if (depth > 8) throw new Error(`sub-compositions nest deeper than 8 at ${host.getAttribute("data-composition-src")}`);
    const reference = host.getAttribute("data-composition-src");
    const path = resolveSource(reference, base);
    const html = path === null ? undefined : sources()[path];
    if (html === undefined) throw new Error(`sub-composition ${reference}: the plan holds no such file`);
    const authoredId = host.getAttribute("data-composition-id") || path;
    const seen = (instanceCount.get(authoredId) || 0) + 1;
    instanceCount.set(authoredId, seen);
    const runtimeId = seen === 1 ? authoredId : `${authoredId}__hf${seen}`;
    host.setAttribute("data-composition-id", runtimeId);
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const template = parsed.querySelector("template");
    const content = template ? template.content : parsed.body;
    const scope = hostSelector(runtimeId);
    for (const style of Array.from(content.querySelectorAll("style"))) {
      const scoped = document.createElement("style");
      scoped.textContent = scopedCss(style.textContent || "", scope, authoredId);
      document.head.appendChild(scoped);
      style.remove();
    }
    const scripts = Array.from(content.querySelectorAll("script"));
    for (const script of scripts) script.remove();
    const inner = content.children.length === 1 && content.firstElementChild.getAttribute("data-composition-id") === authoredId
      ? content.firstElementChild
      : null;
    // This instance's variables: the file's declared defaults, under its host's data-variable-values.
    const variables = Object.assign(
      declaredDefaults(parsed.documentElement),
      declaredDefaults(inner || content.querySelector("[data-composition-variables]")),
      hostValues(host, reference),
    );
    // The file's own root, when it has one, dissolves into the host: its children are the host's.
    const nodes = inner ? Array.from(inner.childNodes) : Array.from(content.childNodes);
    for (const node of nodes) host.appendChild(document.importNode(node, true));
    for (const nested of Array.from(host.querySelectorAll("[data-composition-src]"))) await mountHost(nested, path, depth + 1);
    for (const script of scripts) await runScript(host, script, runtimeId, authoredId, makeScope(host, runtimeId, authoredId, variables));
  };
  let mounted = null;
  const mountAll = () => {
    if (!mounted) {
      mounted = (async () => {
        for (const host of Array.from(document.querySelectorAll("[data-composition-src]"))) {
          if (!mountedHosts.has(host)) await mountHost(host, "index.html", 1);
        }
      })();
    }
    return mounted;
  };
  document.addEventListener("DOMContentLoaded", () => {
    mountAll().catch(() => {}); // the failure is reported by ready(), which awaits the same promise
  });

  // Where a composition's clock starts: the sum of data-start over the hosts around it.
  const compositionOffset = (element) => {
    let offset = 0;
    const root = findRoot();
    for (let host = element; host; host = host.parentElement ? host.parentElement.closest("[data-composition-id]") : null) {
      if (host === root) break;
      const start = parseFloat(host.getAttribute("data-start"));
      if (Number.isFinite(start)) offset += start;
    }
    return offset;
  };

  const seekTimelines = (seconds) => {
    const registry = window.__timelines;
    if (!registry || typeof registry !== "object") return;
    for (const [id, timeline] of Object.entries(registry)) {
      if (!timeline) continue;
      // A sub-composition's timeline runs on its host's clock: from its data-start, not from 0.
      const host = document.querySelector(hostSelector(id));
      const local = host ? Math.max(0, seconds - compositionOffset(host)) : seconds;
      if (typeof timeline.pause === "function") timeline.pause();
      if (typeof timeline.seek === "function") timeline.seek(local, false);
      else if (typeof timeline.totalTime === "function") timeline.totalTime(local, false);
    }
  };

  // --- the other registries HyperFrames seeks ------------------------------------
  // Each is seeked at the frame's time; an error thrown by one fails the frame like an
  // error in a timer, instead of leaving a layer frozen without a word.
  const hostStart = (element) => {
    // Where the clock of the composition around `element` starts (0 for the root or none).
    const host = element && typeof element.closest === "function" ? element.closest("[data-composition-id]") : null;
    return host ? compositionOffset(host) : 0;
  };
  const hostById = (id) => {
    if (typeof id !== "string" || !id) return null;
    const name = id.includes("::") ? id.slice(0, id.indexOf("::")) : id;
    for (const element of document.querySelectorAll("[data-composition-id]")) {
      if (element.getAttribute("data-composition-id") === name) return element;
    }
    return null;
  };

  // anime.js: window.__hfAnime (a list, or registrations by id) and hyperframesAnime.register().
  const animeRegistry = () => {
    if (!window.__hfAnime || typeof window.__hfAnime !== "object") window.__hfAnime = [];
    return window.__hfAnime;
  };
  const animeEntries = () => {
    const entries = [];
    const registry = window.__hfAnime;
    if (!registry || typeof registry !== "object") return entries;
    for (const [key, value] of Object.entries(registry)) {
      if (!value) continue;
      const registered = value.instance && typeof value.instance.seek === "function";
      const instance = registered ? value.instance : value;
      if (typeof instance.seek !== "function") continue;
      const id = registered && value.id ? value.id : Array.isArray(registry) ? "" : key;
      entries.push({ id, instance });
    }
    return entries;
  };
  const hyperframesAnime = {
    register(id, instance, options) {
      const registration = { id: String(id), instance, labels: (options && options.labels) || {} };
      const registry = animeRegistry();
      if (Array.isArray(registry)) registry.push(registration);
      else registry[String(id)] = registration;
      return registration;
    },
    unregister(id) {
      const registry = animeRegistry();
      if (Array.isArray(registry)) {
        const index = registry.findIndex((entry) => entry && entry.id === String(id));
        if (index >= 0) registry.splice(index, 1);
      } else delete registry[String(id)];
    },
    get: (id) => animeEntries().find((entry) => entry.id === String(id)) || null,
    entries: () => animeEntries(),
  };
  window.hyperframesAnime = hyperframesAnime;
  animeRegistry(); // window.__hfAnime exists before the composition's scripts, as HyperFrames' runtime has it
  const primedAnime = new WeakSet();
  const durationMs = (instance) => {
    const value = Number(instance.duration);
    return Number.isFinite(value) && value > 0 ? value : null;
  };
  const seekAnime = (seconds, errors) => {
    for (const { id, instance } of animeEntries()) {
      try {
        const length = durationMs(instance);
        if (!primedAnime.has(instance)) {
          // A child added at a later position takes its "from" values only once the timeline
          // has passed it: every page passes it once, before its first frame, whatever the chunk.
          primedAnime.add(instance);
          if (typeof instance.pause === "function") instance.pause();
          instance.seek(length === null ? 36e6 : length);
          instance.seek(0);
        }
        const host = hostById(id);
        const local = Math.max(0, (seconds - (host ? compositionOffset(host) : 0)) * 1000);
        instance.seek(length === null ? local : Math.min(local, length));
      } catch (error) {
        errors.push(error);
      }
    }
  };

  // Lottie: window.__hfLottie, plus every animation lottie-web itself has registered.
  const lottieAnimations = () => {
    const listed = Array.isArray(window.__hfLottie) ? window.__hfLottie.slice() : [];
    const player = window.lottie;
    if (player && typeof player.getRegisteredAnimations === "function") {
      for (const animation of player.getRegisteredAnimations()) if (!listed.includes(animation)) listed.push(animation);
    }
    return listed;
  };
  const seekLottie = (seconds, errors) => {
    for (const animation of lottieAnimations()) {
      try {
        const element = animation.wrapper || animation.canvas;
        const local = Math.max(0, seconds - hostStart(element));
        const rate = Number(animation.frameRate) || 30;
        const total = Number(animation.totalFrames) || 0;
        const loops = animation.loop === true;
        let frame = local * rate;
        if (total > 0 && loops) frame %= total;
        else if (total > 0 && frame >= total) frame = total - 1; // a finished one-shot holds its last frame
        if (typeof animation.goToAndStop === "function") animation.goToAndStop(frame, true);
        else if (typeof animation.setCurrentRawFrameValue === "function") animation.setCurrentRawFrameValue(frame);
      } catch (error) {
        errors.push(error);
      }
    }
  };

  // Render functions, three.js callbacks and the hf-seek event: told the frame's time in seconds.
  const callEach = (list, seconds, errors) => {
    if (!Array.isArray(list)) return;
    for (const callback of list.slice()) {
      if (typeof callback !== "function") continue;
      try {
        callback(seconds);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  const seekCallbacks = (seconds, errors) => {
    window.__hfTime = seconds;
    callEach(window.__hfRender, seconds, errors);
    window.__hfThreeTime = seconds;
    callEach(window.__hfThreeRender, seconds, errors);
    window.__hfTypegpuTime = seconds;
    try {
      window.dispatchEvent(new CustomEvent("hf-seek", { detail: { time: seconds } }));
    } catch (error) {
      errors.push(error);
    }
  };

  // WebGPU and TypeGPU: __hfTypegpuTime and hf-seek tell the time; window.__hfWebGpu holds the
  // work each frame waits for (registerFrame, and every queue.submit of a registered device), as
  // HyperFrames' runtime has it. A fence that rejects fails the frame; one that never settles ends
  // in the seek's timeout, never in a frame drawn before its work is done.
  const gpuDevices = new Set();
  const gpuPending = new Set();
  let gpuReady = null;
  const gpuWork = (work, time) => {
    if (work === null || work === undefined || work === true) return null;
    if (work === false) return Promise.resolve();
    return Promise.resolve().then(() => (typeof work === "function" ? work(time) : work));
  };
  const trackGpuFrame = (work) => {
    const promise = gpuWork(work) || Promise.resolve();
    gpuPending.add(promise);
    return promise;
  };
  const registerGpuDevice = (device) => {
    if (!device || gpuDevices.has(device)) return;
    gpuDevices.add(device);
    const queue = device.queue;
    if (!queue || typeof queue.submit !== "function" || typeof queue.onSubmittedWorkDone !== "function") return;
    const submit = queue.submit.bind(queue);
    queue.submit = (...args) => {
      const result = submit(...args);
      trackGpuFrame(queue.onSubmittedWorkDone());
      return result;
    };
  };
  Object.defineProperty(window, "__hfWebGpu", {
    value: Object.freeze({
      get devices() { return Array.from(gpuDevices); },
      get pendingFrameCount() { return gpuPending.size; },
      registerDevice: registerGpuDevice,
      registerFrame: trackGpuFrame,
      setReady: (work) => (gpuReady = gpuWork(work) || Promise.resolve()),
      discardPendingFrames: () => gpuPending.clear(),
    }),
    enumerable: false,
  });
  window.__hfRegisterWebGpuDevice = registerGpuDevice;
  window.__hfRegisterWebGpuFrame = trackGpuFrame;
  const gpuSettled = async () => {
    await Promise.all([gpuReady, gpuWork(window.__hfWebGpuReady)].filter(Boolean));
  };
  const gpuFrameDone = async (seconds) => {
    if (typeof window.__hfWebGpuWaitForFrame === "function") await window.__hfWebGpuWaitForFrame(seconds);
    const authored = gpuWork(window.__hfWebGpuFrameReady, seconds);
    if (authored) await authored;
    while (gpuPending.size) {
      const batch = Array.from(gpuPending);
      gpuPending.clear();
      await Promise.all(batch);
    }
    const queues = Array.from(gpuDevices, (device) => device.queue && device.queue.onSubmittedWorkDone && device.queue.onSubmittedWorkDone());
    await Promise.all(queues.filter(Boolean));
  };
  // Chrome composites in software here, and a WebGPU canvas would come out blank: refused by name.
  const refusedContexts = [];
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    if (String(kind).toLowerCase() === "webgpu") {
      const error = new Error('a <canvas> asked for a "webgpu" context: this renderer draws in software and cannot show one; draw the frame to a "2d" or "webgl" canvas');
      refusedContexts.push(error);
      throw error;
    }
    return getContext.call(this, kind, ...rest);
  };
  const failRefused = () => {
    if (refusedContexts.length) throw refusedContexts[0];
  };

  // data-animate-<property>="expression in frame": arithmetic and Math functions only, never eval.
  const MATH = {
    sin: Math.sin, cos: Math.cos, tan: Math.tan, abs: Math.abs, floor: Math.floor, ceil: Math.ceil,
    round: Math.round, sqrt: Math.sqrt, min: Math.min, max: Math.max, pow: Math.pow,
  };
  const evaluate = (text, frame) => {
    const tokens = text.match(/\s*(\d+\.?\d*|\.\d+|\*\*|[A-Za-z_][\w.]*|[-+*/%(),])/g);
    if (!tokens || tokens.join("").replace(/\s+/g, "") !== text.replace(/\s+/g, "")) return null;
    const list = tokens.map((token) => token.trim());
    let at = 0;
    const peek = () => list[at];
    const take = () => list[at++];
    const primary = () => {
      const token = take();
      if (token === undefined) throw new Error("unexpected end");
      if (token === "(") {
        const value = sum();
        if (take() !== ")") throw new Error("missing )");
        return value;
      }
      if (token === "-") return -primary();
      if (token === "+") return primary();
      if (/^[\d.]/.test(token)) return parseFloat(token);
      const name = token.startsWith("Math.") ? token.slice(5) : token;
      if (name === "frame") return frame;
      if (name === "PI") return Math.PI;
      if (name === "E") return Math.E;
      const fn = MATH[name];
      if (!fn || take() !== "(") throw new Error(`unknown name ${token}`);
      const args = [];
      if (peek() !== ")") {
        args.push(sum());
        while (peek() === ",") {
          take();
          args.push(sum());
        }
      }
      if (take() !== ")") throw new Error("missing )");
      return fn(...args);
    };
    const power = () => {
      const base = primary();
      if (peek() === "**") {
        take();
        return base ** power();
      }
      return base;
    };
    const product = () => {
      let value = power();
      while (peek() === "*" || peek() === "/" || peek() === "%") {
        const op = take();
        const right = power();
        value = op === "*" ? value * right : right === 0 ? 0 : op === "/" ? value / right : value % right;
      }
      return value;
    };
    const sum = () => {
      let value = product();
      while (peek() === "+" || peek() === "-") value = take() === "+" ? value + product() : value - product();
      return value;
    };
    try {
      const value = sum();
      return at === list.length && Number.isFinite(value) ? value : null;
    } catch (error) {
      return null;
    }
  };
  const TRANSFORMS = { x: "translateX(%px)", y: "translateY(%px)", scale: "scale(%)", rotate: "rotate(%deg)", rotation: "rotate(%deg)" };
  const seekProcedural = (frame, errors) => {
    for (const element of document.querySelectorAll("*")) {
      const transforms = [];
      for (const attribute of element.attributes) {
        if (!attribute.name.startsWith("data-animate-")) continue;
        const property = attribute.name.slice("data-animate-".length);
        const value = evaluate(attribute.value, frame);
        if (value === null) {
          errors.push(new Error(`${attribute.name}="${attribute.value}" is not an arithmetic expression of frame`));
          continue;
        }
        if (TRANSFORMS[property]) transforms.push(TRANSFORMS[property].replace("%", String(value)));
        else element.style.setProperty(property, String(value));
      }
      if (transforms.length) element.style.transform = transforms.join(" ");
    }
  };

  const seekRegistries = (seconds, frameIndex, errors) => {
    seekAnime(seconds, errors);
    seekLottie(seconds, errors);
    seekCallbacks(seconds, errors);
    seekProcedural(frameIndex, errors);
  };

  // --- <video>: frames decoded by the renderer, drawn in the element's own box ---------
  // The element stays (animations, windows and styles still apply to it) but never plays: its
  // source is dropped, and each frame's decoded image is its background, fitted as object-fit says.
  let managed = null;
  const clips = () => managed || Array.from(document.querySelectorAll("video"));
  const FITS = { fill: "100% 100%", contain: "contain", cover: "cover", none: "auto", "scale-down": "contain" };
  const takeOver = () => {
    if (managed) return managed;
    managed = Array.from(document.querySelectorAll("video"));
    for (const video of managed) {
      const style = getComputedStyle(video);
      video.pause();
      for (const source of Array.from(video.querySelectorAll("source"))) source.remove();
      video.removeAttribute("src");
      video.removeAttribute("poster");
      video.load();
      video.style.backgroundRepeat = "no-repeat";
      video.style.backgroundSize = FITS[style.objectFit] || "contain";
      video.style.backgroundPosition = style.objectPosition || "50% 50%";
    }
    return managed;
  };
  const decodedFrames = new Map();
  const showVideoFrames = async (urls) => {
    const videos = takeOver();
    if (!Array.isArray(urls) || urls.length === 0) return;
    if (urls.length !== videos.length) {
      throw new Error(`${videos.length} <video> elements, ${urls.length} decoded frames: a video was added after the page loaded`);
    }
    const waits = [];
    urls.forEach((url, index) => {
      if (!url || decodedFrames.has(url)) return;
      const image = new Image();
      image.src = url;
      decodedFrames.set(url, image.decode());
      waits.push(decodedFrames.get(url));
    });
    await Promise.all(waits);
    urls.forEach((url, index) => {
      videos[index].style.backgroundImage = url ? `url("${url}")` : "none";
    });
    if (decodedFrames.size > 256) decodedFrames.clear(); // a chunk moves forward: old frames are done
  };

  const savedVisibility = new WeakMap();
  const applyWindows = (seconds) => {
    for (const element of document.querySelectorAll("[data-start]")) {
      const own = parseFloat(element.getAttribute("data-start"));
      if (!Number.isFinite(own)) continue;
      // data-start counts from the start of the composition the element belongs to.
      const parent = element.parentElement ? element.parentElement.closest("[data-composition-id]") : null;
      const start = own + (parent ? compositionOffset(parent) : 0);
      const length = parseFloat(element.getAttribute("data-duration"));
      const end = Number.isFinite(length) ? start + length : Infinity;
      const inside = seconds >= start - EPSILON_S && seconds < end - EPSILON_S;
      if (!savedVisibility.has(element)) savedVisibility.set(element, element.style.getPropertyValue("visibility"));
      if (inside) element.style.setProperty("visibility", savedVisibility.get(element));
      else element.style.setProperty("visibility", "hidden", "important");
    }
  };

  const decoded = new WeakSet();
  const settleResources = async () => {
    if (document.fonts && document.fonts.status !== "loaded") await document.fonts.ready;
    const waits = [];
    for (const image of document.images) {
      if (decoded.has(image) || !image.src) continue;
      waits.push(
        image.decode().then(
          () => decoded.add(image),
          () => decoded.add(image), // a broken image draws as broken, deterministically
        ),
      );
    }
    if (waits.length) await Promise.all(waits);
  };

  const fail = (errors) => {
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} errors while seeking: ${errors[0]}`);
  };

  const seek = async (frameIndex, fps, videoFrames) => {
    const t = (frameIndex * 1000) / fps;
    const seconds = frameIndex / fps;
    stamp(nowMs); // animations made since the last seek started when it ran
    reseed(frameIndex);
    nowMs = t;
    const errors = [];
    // Timers first, each at its own due time; then the composition's own seek, which
    // has the last word on the state at t; then one animation frame.
    runTimers(t, errors);
    fail(errors);
    const hf = window.__hf;
    if (hf && typeof hf.seek === "function") await hf.seek(seconds);
    seekTimelines(seconds);
    seekRegistries(seconds, frameIndex, errors);
    fail(errors);
    runAnimationFrames(t, errors);
    fail(errors);
    failRefused();
    await gpuFrameDone(seconds);
    stamp(t);
    seekAnimations(t);
    seekSvgClocks(seconds);
    applyWindows(seconds);
    await showVideoFrames(videoFrames);
    await settleResources();
    return t;
  };

  const info = () => {
    const root = findRoot();
    const hf = window.__hf;
    const hfDuration = hf && typeof hf.duration === "number" ? hf.duration : null;
    if (!root) return { found: false, hf_duration: hfDuration };
    const attributes = {};
    for (const name of root.getAttributeNames()) {
      if (name.startsWith("data-")) attributes[name.slice(5)] = root.getAttribute(name);
    }
    // HyperFrames registers the root's timeline under its composition id: without data-duration,
    // the timeline's length is the composition's.
    const compositionId = root.getAttribute("data-composition-id");
    const registry = window.__timelines;
    const timeline = compositionId && registry && typeof registry === "object" ? registry[compositionId] : null;
    let timelineDuration = null;
    if (timeline) {
      const measure = typeof timeline.totalDuration === "function" ? timeline.totalDuration : timeline.duration;
      const value = typeof measure === "function" ? Number(measure.call(timeline)) : NaN;
      if (Number.isFinite(value) && value > 0) timelineDuration = value;
    }
    // The <video> elements, in document order: the plan decodes their frames, the page never plays them.
    const videos = clips().map((video) => ({
      src: video.getAttribute("src") || (video.querySelector("source[src]") || { getAttribute: () => "" }).getAttribute("src"),
      start: video.getAttribute("data-start"),
      duration: video.getAttribute("data-duration"),
      media_start: video.getAttribute("data-media-start"),
      volume: video.getAttribute("data-volume"),
      muted: video.muted || video.hasAttribute("muted"),
    }));
    return {
      found: true,
      videos,
      timeline_duration: timelineDuration,
      tag: root.tagName.toLowerCase(),
      composition_id: compositionId,
      width: root.getAttribute("data-width"),
      height: root.getAttribute("data-height"),
      fps: root.getAttribute("data-fps"),
      duration: root.getAttribute("data-duration"),
      hf_duration: hfDuration,
      attributes,
    };
  };

  Object.defineProperty(window, "__renderzip", {
    value: Object.freeze({ seek, info, ready: () => mountAll().then(gpuSettled).then(settleResources).then(failRefused) }),
    enumerable: false,
  });
})();
