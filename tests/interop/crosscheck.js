#!/usr/bin/env node
// Cross-checks eio's packet and payload codec against the official JavaScript
// parsers, both directions: engine.io-parser 5 (protocol v4) and
// engine.io-parser 2 (protocol v3, installed as engine.io-parser-v3).
//
// For every case (seeded random ones, then hand-written edge cases) the
// official encoder produces bytes; eio_crosscheck_helper decodes them with our
// decoder and encodes the same packets with our encoder. We then require:
//   - our decoder yields exactly the generated packets,
//   - our encoder yields exactly the official bytes (and frame/payload kind),
//   - the official decoder reads our bytes back as the generated packets,
//   - our decoder gives the same result fed in pieces as whole.
// The generator only produces valid input (no lone surrogates, no '\x1e' in
// v4 polling text, binary data only on v4 `message` packets), so any
// difference is a disagreement to look at.
//
// Usage: node crosscheck.js --helper PATH [--seed N] [--cases N] [--show N]
//   --seed   PRNG seed (env EIO_CROSSCHECK_SEED; default fixed, printed)
//   --cases  random cases per (version x form x binary) (env EIO_CROSSCHECK_CASES)
//   --show   mismatches to print in detail (default 5)
// Exits 0 when every case agrees, 1 on any mismatch, 2 on a setup problem.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const DEFAULT_SEED = 20240917;
const DEFAULT_CASES = 750;  // x 8 combinations = 6000 random cases
const TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];

function fail_setup(message) {
  console.error(`crosscheck: ${message}`);
  process.exit(2);
}

function parse_args(argv) {
  const args = {
    helper: process.env.EIO_CROSSCHECK_HELPER,
    seed: process.env.EIO_CROSSCHECK_SEED,
    cases: process.env.EIO_CROSSCHECK_CASES,
    show: 5,
  };
  for (let i = 0; i < argv.length; ++i) {
    const name = argv[i];
    const value = argv[i + 1];
    if (!['--helper', '--seed', '--cases', '--show'].includes(name) || value === undefined) {
      fail_setup(`unknown or incomplete argument ${name}\n` +
                 'usage: node crosscheck.js --helper PATH [--seed N] [--cases N] [--show N]');
    }
    args[name.slice(2)] = value;
    ++i;
  }
  if (!args.helper) fail_setup('--helper PATH (eio_crosscheck_helper) is required');
  const as_int = (value, fallback, what) => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) fail_setup(`${what} must be a non-negative integer, not ${value}`);
    return n;
  };
  args.seed = as_int(args.seed, DEFAULT_SEED, 'seed') >>> 0;
  args.cases = as_int(args.cases, DEFAULT_CASES, 'cases');
  args.show = as_int(args.show, 5, 'show');
  return args;
}

function load_parsers() {
  try {
    return { v4: require('engine.io-parser'), v3: require('engine.io-parser-v3') };
  } catch (e) {
    fail_setup(`cannot load the official parsers (${e.message.split('\n')[0]}); ` +
               'run `npm ci` at the repository root');
  }
}

// The version field of the installed package `name` (its package.json is not
// exported, so walk up from the entry point).
function package_version(name) {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (json.name && json.version) return json.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return '?';
    dir = parent;
  }
}

// ------------------------------------------------------------------ random

// A 32-bit counter hashed with the murmur3 finalizer: small, seedable, and
// good enough to spread test cases.
function make_rng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),  // inclusive
    chance: (p) => next() < p,
    pick: (list) => list[int(list.length)],
  };
}

// Characters next to the framing: v3 length digits and ':', the v4 record
// separator, the 'b' marker, JSON's escapes, and the C0/DEL controls.
const FRAMING_CHARS = [':', '0', '1', '2', '9', 'b', 'B', '\x1e', '\x00', '\n', '\r', '\t', '"', '\\', '\x1f', '\x7f', '='];

const EDGE_CODE_POINTS = [
  0x80, 0x7ff,                                          // 2-byte bounds
  0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xfffe, 0xffff,  // 3-byte bounds, BOM, specials
  0x10000, 0x1f600, 0x1f4a9, 0x10fffd, 0x10ffff,       // 4-byte bounds, emoji
];

function random_code_point(rng, allow_separator) {
  switch (rng.int(7)) {
    case 0:
    case 1: return rng.range(0x20, 0x7e);
    case 2: {
      let c;
      do c = rng.pick(FRAMING_CHARS); while (c === '\x1e' && !allow_separator);
      return c.codePointAt(0);
    }
    case 3: return rng.range(0x80, 0x7ff);
    case 4: {
      // 3-byte UTF-8 without the surrogate range, which UTF-8 cannot carry.
      const c = rng.range(0x800, 0xffff - 0x800);
      return c < 0xd800 ? c : c + 0x800;
    }
    case 5: return rng.range(0x10000, 0x10ffff);
    default: return rng.pick(EDGE_CODE_POINTS);
  }
}

function random_text(rng, allow_separator) {
  const r = rng.next();
  if (r < 0.08) return '';
  const length = r < 0.75 ? rng.range(1, 12) : r < 0.97 ? rng.range(13, 120) : rng.range(121, 1500);
  // Sometimes one kind of character only (all digits, all emoji, ...).
  const uniform = rng.chance(0.15) ? random_code_point(rng, allow_separator) : undefined;
  let text = '';
  for (let i = 0; i < length; ++i) {
    text += String.fromCodePoint(uniform !== undefined && rng.chance(0.9) ? uniform : random_code_point(rng, allow_separator));
  }
  return text;
}

function random_bytes(rng) {
  const r = rng.next();
  const length = r < 0.1 ? 0 : r < 0.998 ? rng.range(1, 300) : rng.range(68 * 1024, 72 * 1024);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; ++i) bytes[i] = rng.int(256);
  return bytes;
}

function random_packet(rng, version, allow_separator) {
  const type = rng.pick(TYPES);
  // v4 carries binary in `message` packets only (a binary frame has no type).
  const may_be_binary = version === 3 || type === 'message';
  if (may_be_binary && rng.chance(0.3)) return { type, data: random_bytes(rng) };
  if (rng.chance(0.07)) return { type };  // no data at all, like a plain ping
  return { type, data: random_text(rng, allow_separator) };
}

// --------------------------------------------------------- the official side

const is_binary = (data) => data instanceof ArrayBuffer || ArrayBuffer.isView(data);
const to_buffer = (data) => Buffer.isBuffer(data) ? data
                          : data instanceof ArrayBuffer ? Buffer.from(data)
                          : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

// The official encoding of case `c`: { bytes, binary } (binary: a Buffer
// payload / binary frame rather than a string).
function official_encode(parsers, c) {
  let result;
  const done = (encoded) => { result = encoded; };
  if (c.eio === 4 && c.form === 'polling') parsers.v4.encodePayload(c.packets, done);
  else if (c.eio === 4) parsers.v4.encodePacket(c.packets[0], c.binary, done);
  else if (c.form === 'polling') parsers.v3.encodePayload(c.packets, c.binary, done);
  else parsers.v3.encodePacket(c.packets[0], c.binary, false, done);
  if (result === undefined) throw new Error('the official encoder did not call back synchronously');
  return typeof result === 'string' ? { bytes: Buffer.from(result, 'utf8'), binary: false }
                                    : { bytes: to_buffer(result), binary: true };
}

// The official decoding of `bytes`: { packets } or { error }.
function official_decode(parsers, eio, form, bytes, binary) {
  const input = binary ? bytes : bytes.toString('utf8');
  const packets = [];
  if (eio === 4 && form === 'polling') {
    if (binary) return { error: 'a v4 payload must be text' };
    packets.push(...parsers.v4.decodePayload(input));
  } else if (eio === 4) {
    packets.push(parsers.v4.decodePacket(input));
  } else if (form === 'polling') {
    parsers.v3.decodePayload(input, (packet) => { packets.push(packet); });
  } else {
    packets.push(parsers.v3.decodePacket(input));
  }
  const bad = packets.find((p) => p.type === 'error' || !TYPES.includes(p.type));
  if (bad) return { error: `${bad.type}: ${bad.data}` };
  return { packets: packets.map(normalize) };
}

// JavaScript packet -> { type, binary, data }: no data reads as empty text.
function normalize(p) {
  if (p.data !== undefined && is_binary(p.data)) return { type: p.type, binary: true, data: to_buffer(p.data) };
  return { type: p.type, binary: false, data: p.data === undefined ? '' : String(p.data) };
}

// A helper packet ({ type, binary, data: text or base64 }) -> normalized.
function from_helper(p) {
  return p.binary ? { type: p.type, binary: true, data: Buffer.from(p.data, 'base64') }
                  : { type: p.type, binary: false, data: p.data };
}

function same_packets(a, b) {
  if (a.length !== b.length) return false;
  return a.every((p, i) => p.type === b[i].type && p.binary === b[i].binary &&
                           (p.binary ? p.data.equals(b[i].data) : p.data === b[i].data));
}

// ----------------------------------------------------------------- the cases

function random_cases(rng, per_combination) {
  const cases = [];
  for (const eio of [3, 4]) {
    for (const form of ['polling', 'websocket']) {
      for (const binary of [false, true]) {
        // v4 payload framing splits on '\x1e' (the official decoder too).
        const allow_separator = !(eio === 4 && form === 'polling');
        for (let n = 0; n < per_combination; ++n) {
          const count = form === 'polling' ? rng.range(1, 20) : 1;
          const packets = [];
          for (let i = 0; i < count; ++i) packets.push(random_packet(rng, eio, allow_separator));
          cases.push({ eio, form, binary, packets });
        }
      }
    }
  }
  return cases;
}

function each_combination(fn) {
  for (const eio of [3, 4]) for (const form of ['polling', 'websocket']) for (const binary of [false, true]) fn(eio, form, binary);
}

function edge_cases() {
  const cases = [];
  const add = (name, eio, form, binary, packets) => cases.push({ name, eio, form, binary, packets });
  // One payload holding every type, or one frame per type.
  const per_type = (name, make) => each_combination((eio, form, binary) => {
    if (form === 'polling') add(name, eio, form, binary, TYPES.map(make));
    else for (const type of TYPES) add(`${name} (${type})`, eio, form, binary, [make(type)]);
  });
  per_type('empty data, every type', (type) => ({ type, data: '' }));
  per_type('no data, every type', (type) => ({ type }));
  per_type('data "0", every type', (type) => ({ type, data: '0' }));
  per_type('data starting with "b", every type', (type) => ({ type, data: 'bAAAA' }));

  // 1 MiB of text: ASCII, then mixed widths (lengths in UTF-16 units for v3).
  const mib = 1024 * 1024;
  const ascii = 'abcdefghij:0123456789'.repeat(Math.ceil(mib / 21)).slice(0, mib);
  const mixed = 'a\u00e9\u20ac\u{1F600}:7'.repeat(Math.ceil(mib / 12));
  each_combination((eio, form, binary) => {
    add('1 MiB ASCII text', eio, form, binary, [{ type: 'message', data: ascii }]);
    add('1 MiB mixed-width text', eio, form, binary, [{ type: 'message', data: mixed }]);
  });

  // v3 length prefixes count UTF-16 units; emoji are two each.
  const emoji = ['\u{1F600}', '\u{1F4A9}\u{1F680}', '\u{1F1FA}\u{1F1F8}', '\u{10FFFF}\u{1F600}\u{1F600}'];
  const emoji_packets = Array.from({ length: 10 }, (_, i) => ({ type: 'message', data: emoji[i % emoji.length].repeat(i + 1) }));
  for (const binary of [false, true]) {
    add('v3 payload, 10 emoji-only packets', 3, 'polling', binary, emoji_packets);
    add('v3 payload, 10 emoji-only packets and a binary one', 3, 'polling', binary,
        [...emoji_packets, { type: 'message', data: Buffer.from([1, 2, 3]) }]);
  }

  // Zero-length binary, alone and among text.
  each_combination((eio, form, binary) => {
    const types = eio === 3 ? TYPES : ['message'];
    for (const type of types) add(`empty binary (${type})`, eio, form, binary, [{ type, data: Buffer.alloc(0) }]);
    if (form === 'polling') {
      add('empty binary between text', eio, form, binary,
          [{ type: 'message', data: '1' }, { type: 'message', data: Buffer.alloc(0) }, { type: 'ping' }]);
    }
  });

  // Big binary in payloads (a 5-digit v3 length) and 20 packets at once.
  const big = Buffer.alloc(70 * 1024);
  for (let i = 0; i < big.length; ++i) big[i] = (i * 131 + 7) & 0xff;
  each_combination((eio, form, binary) => {
    add('70 KiB binary', eio, form, binary, [{ type: 'message', data: big }]);
    if (form === 'polling') {
      add('20 packets, text and binary', eio, form, binary, Array.from({ length: 20 }, (_, i) =>
        (i % 3 === 0 ? { type: 'message', data: big.subarray(0, i * 100) } : { type: TYPES[i % 7], data: `${i}:${i}` })));
    }
  });

  // An empty v3 payload is "0:" (v4's encodePayload never calls back for []).
  for (const binary of [false, true]) add('v3 empty payload', 3, 'polling', binary, []);
  return cases;
}

// ----------------------------------------------------------------- reporting

function clip(text, limit = 160) {
  return text.length <= limit ? text : `${text.slice(0, limit)}... (${text.length} chars)`;
}

function show_bytes(bytes, binary) {
  if (binary) return `binary ${bytes.length} bytes: ${clip(bytes.toString('hex'))}`;
  return `text ${bytes.length} bytes: ${clip(JSON.stringify(bytes.toString('utf8')))}`;
}

function show_packets(packets) {
  if (!packets) return 'none';
  return `${packets.length} packets\n` + packets.map((p, i) => {
    const data = p.binary ? `binary ${p.data.length} bytes ${clip(p.data.toString('hex'), 80)}`
                          : `text ${p.data.length} units ${clip(JSON.stringify(p.data), 80)}`;
    return `        [${i}] ${p.type} ${data}`;
  }).join('\n');
}

// ---------------------------------------------------------------------- run

function escape_non_ascii(json, upper) {
  return json.replace(/[\u007f-\uffff]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
    return `\\u${upper ? hex.toUpperCase() : hex}`;
  });
}

function main() {
  const args = parse_args(process.argv.slice(2));
  const parsers = load_parsers();
  if (!fs.existsSync(args.helper)) fail_setup(`no helper at ${args.helper}`);
  const started = process.hrtime.bigint();
  console.log(`crosscheck: seed ${args.seed}, ${args.cases} random cases per (version x form x binary); ` +
              `engine.io-parser ${package_version('engine.io-parser')}, ` +
              `engine.io-parser-v3 ${package_version('engine.io-parser-v3')}`);

  const rng = make_rng(args.seed);
  const cases = [...random_cases(rng, args.cases), ...edge_cases()];
  const random_count = args.cases * 8;

  const lines = [];
  const failures = [];
  cases.forEach((c, id) => {
    c.id = id;
    c.expected = c.packets.map(normalize);
    c.official = official_encode(parsers, c);
    // The official parser must read its own encoding back (else the
    // generator made something invalid).
    const self = official_decode(parsers, c.eio, c.form, c.official.bytes, c.official.binary);
    if (self.error || !same_packets(self.packets, c.expected)) {
      failures.push({ c, problems: [`generator: the official parser does not round-trip this case (${self.error || 'other packets'})`] });
    }
    const json = JSON.stringify({
      id,
      eio: c.eio,
      form: c.form,
      binary: c.binary,
      encoded_binary: c.official.binary,
      encoded_b64: c.official.bytes.toString('base64'),
      packets: c.expected.map((p) => ({ type: p.type, binary: p.binary, data: p.binary ? p.data.toString('base64') : p.data })),
    });
    // Every fourth line spells non-ASCII as \u escapes (surrogate pairs for
    // non-BMP), so the helper's JSON reader is checked on both spellings.
    lines.push(id % 4 === 1 ? escape_non_ascii(json, id % 8 === 1) : json);
  });

  const run = spawnSync(args.helper, [], { input: lines.join('\n') + '\n', maxBuffer: 1 << 30 });
  if (run.error) fail_setup(`cannot run ${args.helper}: ${run.error.message}`);
  if (run.stderr.length) process.stderr.write(run.stderr);
  const results = new Map();
  for (const line of run.stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const result = JSON.parse(line);
    results.set(result.id, result);
  }

  for (const c of cases) {
    const problems = [];
    const r = results.get(c.id);
    if (!r) {
      problems.push(`helper: no result (exit status ${run.status}${run.signal ? `, signal ${run.signal}` : ''})`);
    } else if (r.helper_error) {
      problems.push(`helper: ${r.helper_error}`);
    } else {
      if (r.split_error) problems.push(`our decoder fed in pieces disagrees with it whole: ${r.split_error}`);
      c.ours_decoded = r.decoded && r.decoded.map(from_helper);
      if (r.error) problems.push(`our decoder rejects the official encoding: ${r.error}`);
      else if (!same_packets(c.ours_decoded, c.expected)) problems.push('our decoder reads other packets from the official encoding');
      c.ours_encoded = { bytes: Buffer.from(r.encoded_b64, 'base64'), binary: r.encoded_binary };
      if (c.ours_encoded.binary !== c.official.binary) {
        problems.push(`our encoder chose a ${c.ours_encoded.binary ? 'binary' : 'text'} ${c.form === 'polling' ? 'payload' : 'frame'}, the official one a ${c.official.binary ? 'binary' : 'text'} one`);
      } else if (!c.ours_encoded.bytes.equals(c.official.bytes)) {
        problems.push('our encoding differs from the official bytes');
      }
      c.official_of_ours = official_decode(parsers, c.eio, c.form, c.ours_encoded.bytes, c.ours_encoded.binary);
      if (c.official_of_ours.error) problems.push(`the official decoder rejects our encoding: ${c.official_of_ours.error}`);
      else if (!same_packets(c.official_of_ours.packets, c.expected)) problems.push('the official decoder reads other packets from our encoding');
    }
    if (problems.length) failures.push({ c, problems });
  }

  const failed_ids = new Set(failures.map((f) => f.c.id));
  failures.sort((a, b) => a.c.id - b.c.id);
  for (const { c, problems } of failures.slice(0, args.show)) {
    console.log(`\nMISMATCH case ${c.id}${c.name ? ` "${c.name}"` : ''}: v${c.eio} ${c.form}, binary ${c.binary}`);
    for (const problem of problems) console.log(`  - ${problem}`);
    console.log(`  generated:        ${show_packets(c.expected)}`);
    console.log(`  official encoded: ${show_bytes(c.official.bytes, c.official.binary)}`);
    if (c.ours_decoded) console.log(`  ours decoded:     ${show_packets(c.ours_decoded)}`);
    if (c.ours_encoded) console.log(`  ours encoded:     ${show_bytes(c.ours_encoded.bytes, c.ours_encoded.binary)}`);
    if (c.official_of_ours) {
      console.log(`  official decoded ours: ${c.official_of_ours.error || show_packets(c.official_of_ours.packets)}`);
    }
  }
  if (failed_ids.size > args.show) console.log(`\n(${failed_ids.size - args.show} more mismatching cases not shown; --show N)`);

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const passed = cases.length - failed_ids.size;
  console.log(`crosscheck: ${passed} passed, ${failed_ids.size} failed ` +
              `(${random_count} random, ${cases.length - random_count} edge cases; seed ${args.seed}; ${seconds.toFixed(1)} s)`);
  if (failed_ids.size === 0 && run.status !== 0) {
    console.log(`crosscheck: the helper exited with status ${run.status}`);
    process.exit(1);
  }
  process.exit(failed_ids.size === 0 ? 0 : 1);
}

main();
