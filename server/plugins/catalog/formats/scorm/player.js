/*
 * The SCORM API (window.API for SCORM 1.2, window.API_1484_11 for 2004) in the frame page that
 * holds the SCO (with a content origin, frame.ts) or in the SCO's own launch page (without one:
 * the catalog injects this script, after scorm-again, when the page is opened with a session's
 * start parameter). It runs in the SCO's sandboxed (opaque) origin: the
 * API must live in the SCO's window, because the SCO cannot reach a parent window of another
 * origin, and it must be ready before the SCO's scripts call LMSInitialize — hence the one
 * synchronous request for the session (the start URL works once).
 *
 * Commits answer "true" at once and go to the server in order, one at a time; a commit that
 * fails on the network (or with a 5xx, 408 or 429) is retried with a growing delay, and a newer
 * commit replaces an older one still waiting (each carries the whole data). What is still queued
 * when the page goes away is sent with sendBeacon. The server applies each sequence number once.
 */
/* global XMLHttpRequest, URLSearchParams, Blob, setTimeout, location, Scorm12API, Scorm2004API */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/catalog\/scorm\/player\.js(\?.*)?$/, '');
  var id = new URLSearchParams(location.search).get('lms-scorm');
  var start = id ? fetchStart(id) : null;
  if (!start) return;

  function fetchStart(fetchId) {
    var xhr = new XMLHttpRequest();
    try {
      xhr.open('POST', base + '/catalog/scorm/start/' + encodeURIComponent(fetchId), false);
      xhr.setRequestHeader('Content-Type', 'text/plain');
      xhr.send('');
    } catch (e) {
      console.error('SCORM: the lesson could not be started', e);
      return null;
    }
    if (xhr.status !== 200) {
      console.error('SCORM: the lesson could not be started: ' + xhr.status + ' ' + xhr.responseText);
      return null;
    }
    return JSON.parse(xhr.responseText);
  }

  var queue = [];
  var inFlight = null;
  var seq = 0;
  var delay = 1000;

  function enqueue(event, cmi) {
    seq += 1;
    var msg = { key: start.key, seq: seq, event: event, at: new Date().toISOString(), cmi: cmi };
    var last = queue[queue.length - 1];
    if (last && last !== inFlight && last.event === 'commit' && event !== 'initialize') queue[queue.length - 1] = msg;
    else queue.push(msg);
    pump();
  }

  function pump() {
    if (inFlight || !queue.length) return;
    var msg = (inFlight = queue[0]);
    var body = JSON.stringify(msg);
    fetch(start.commitUrl, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: body, keepalive: body.length < 60000 })
      .then(function (res) {
        var retry = res.status >= 500 || res.status === 408 || res.status === 429;
        if (retry) throw new Error('HTTP ' + res.status);
        if (!res.ok)
          res.text().then(function (t) {
            console.error('SCORM: the server refused a commit: ' + res.status + ' ' + t);
          });
        queue.shift();
        inFlight = null;
        delay = 1000;
        pump();
      })
      .catch(function () {
        inFlight = null;
        setTimeout(pump, delay);
        delay = Math.min(delay * 2, 30000);
      });
  }

  // Whatever is still waiting when the learner closes the window.
  window.addEventListener('pagehide', function () {
    for (var i = 0; i < queue.length; i++) {
      if (queue[i] === inFlight) continue;
      navigator.sendBeacon(start.commitUrl, new Blob([JSON.stringify(queue[i])], { type: 'text/plain' }));
    }
    queue = inFlight ? [inFlight] : [];
  });

  var settings = {
    lmsCommitUrl: start.commitUrl,
    autocommit: false,
    sendFullCommit: true,
    dataCommitFormat: 'json',
    logLevel: 5,
    httpService: {
      processHttpRequest: function (_url, params, immediate) {
        enqueue(immediate ? 'terminate' : 'commit', params);
        return { result: 'true', errorCode: 0 };
      },
      updateSettings: function () {},
    },
  };
  var api = start.version === '1.2' ? new Scorm12API(settings) : new Scorm2004API(settings);
  api.loadFromJSON(start.cmi, '');
  api.on(start.version === '1.2' ? 'LMSInitialize' : 'Initialize', function () {
    enqueue('initialize');
  });
  // Packages written for an LMS that holds the API in a parent frame declare `var API = null;` in
  // the SCO's own window (the ADL/Rustici templates do): the API is a property that keeps our
  // object whatever the SCO assigns to it, so their own discovery (this window, then parents) finds it.
  Object.defineProperty(window, start.version === '1.2' ? 'API' : 'API_1484_11', {
    configurable: false,
    enumerable: true,
    get: function () {
      return api;
    },
    set: function () {},
  });
})();
