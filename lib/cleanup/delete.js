'use strict';
// Deleting groups: the DELETE path of a grouping key, and a bounded pool of requests.

/** One grouping-key value as a URL path segment pair: `name/value` or `name@base64/<base64url>`. */
function encodeLabel(name, value) {
  // A plain or percent-encoded '/' is a path separator to the Pushgateway, and an empty segment
  // ('//') or a trailing '/' is collapsed; '.' and '..' would be cleaned away as path segments.
  // The @base64 form carries all of them: URL-safe base64, and a single '=' for an empty value.
  if (value === '') return `${name}@base64/=`;
  if (value.includes('/') || value === '.' || value === '..') {
    return `${name}@base64/${Buffer.from(value, 'utf8').toString('base64url')}`;
  }
  return `${name}/${encodeURIComponent(value)}`;
}

const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The path of a group, `/metrics/job/<job>{/<label>/<value>}`, with every label of its grouping key. */
function groupPath(labels) {
  const names = Object.keys(labels).filter((n) => n !== 'job').sort();
  for (const name of names) {
    if (!LEGACY_LABEL_NAME.test(name)) {
      throw new Error(`label name ${JSON.stringify(name)} cannot be written in a push URL without UTF-8 name escaping, which this program does not do`);
    }
  }
  return `/metrics/${encodeLabel('job', labels.job)}${names.map((n) => `/${encodeLabel(n, labels[n])}`).join('')}`;
}

/**
 * The DELETE paths of a group read from /metrics: its key, and, when /metrics showed an empty
 * `instance` (which it shows for a key without one too), the key with `instance=""` as well. Only
 * one of the two groups can exist; the DELETE of the other changes nothing.
 */
function groupPaths(group) {
  const paths = [groupPath(group.labels)];
  if (group.emptyInstance) paths.push(groupPath({ ...group.labels, instance: '' }));
  return paths;
}

/** Deletes a group: every path of `groupPaths`, at once. */
async function deleteGroup(client, group) {
  await Promise.all(groupPaths(group).map((path) => client.request('DELETE', path)));
}

/** Runs `work` on each item, `concurrency` at a time. */
async function runPool(items, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

module.exports = { encodeLabel, groupPath, groupPaths, deleteGroup, runPool };
