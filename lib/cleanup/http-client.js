'use strict';
// The HTTP client of one Pushgateway (replica): basic auth, CA, keep-alive, timeouts, retries.

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');

/** A request that failed: `url` and `cause` are both in the message. */
class RequestError extends Error {
  constructor(method, url, cause, status) {
    super(`${method} ${url}: ${cause}`);
    this.status = status;
    // Network errors and 5xx answers are worth retrying; 4xx answers are not.
    this.retryable = status === undefined || status >= 500;
  }
}

/**
 * A client of the Pushgateway at `options.url`. `request` resolves to `{ status, headers, body }`;
 * with `consume` (a factory of `{ write(chunk), end() }`, called anew for each attempt) the body
 * is handed over chunk by chunk as it arrives, never held whole, and `body` is what `end` returns.
 */
function makeClient(options) {
  const ca = options.caFile === undefined ? undefined : fs.readFileSync(options.caFile);
  const agentOptions = { keepAlive: true, maxSockets: options.concurrency, ca };
  const agent = options.url.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const authorization = options.username === undefined ? undefined
    : `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}`;
  const base = new URL(options.url);
  const transport = base.protocol === 'https:' ? https : http;
  const target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port };
  let retries = 0;

  function once(method, path, body, headers, consume) {
    const url = `${options.url}${path}`;
    return new Promise((resolve, reject) => {
      const req = transport.request({
        ...target,
        path: `${base.pathname.replace(/\/$/, '')}${path}`,
        method,
        agent,
        headers: { ...headers, ...(authorization ? { authorization } : {}), ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      }, (res) => {
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const sink = ok && consume ? consume() : undefined;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          // --timeout bounds silence, not the whole answer: a large store streams for longer.
          timer.refresh();
          if (sink) {
            try {
              sink.write(chunk);
            } catch (e) {
              fail(new RequestError(method, url, e.message, res.statusCode));
            }
          } else if (text.length < 4096 || ok) {
            text += chunk;
          }
        });
        res.on('error', (e) => fail(new RequestError(method, url, e.message)));
        res.on('end', () => {
          clearTimeout(timer);
          if (ok) {
            try {
              resolve({ status: res.statusCode, headers: res.headers, body: sink ? sink.end() : text });
            } catch (e) {
              reject(new RequestError(method, url, e.message, res.statusCode));
            }
          } else {
            const detail = text.trim().slice(0, 300);
            const hint = res.statusCode === 401 ? ' (check PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD)' : '';
            reject(new RequestError(method, url, `HTTP ${res.statusCode}${detail ? `: ${detail}` : ''}${hint}`, res.statusCode));
          }
        });
      });
      const fail = (error) => {
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new RequestError(method, url, `nothing received for ${options.timeout} ms (--timeout)`)), options.timeout);
      req.on('error', (e) => fail(new RequestError(method, url, describeNetworkError(e))));
      req.end(body);
    });
  }

  async function request(method, path, { body, headers, consume } = {}) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(method, path, body, headers, consume);
      } catch (error) {
        if (!error.retryable || attempt >= options.retries) throw error;
        retries++;
        // Exponential backoff with jitter, so that parallel workers do not retry in lockstep.
        const delay = Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return { request, retries: () => retries, close: () => agent.destroy() };
}

function describeNetworkError(error) {
  const text = error.message || String(error);
  if (error.code && !text.includes(error.code)) return `${error.code} ${text}`;
  return text;
}

module.exports = { RequestError, makeClient };
