#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint (compiled to WebAssembly, so
// nothing is downloaded at run time) and Dockerfiles with dockerfile-utils,
// plus a few project rules neither tool knows. Prints one line per finding
// ("file:line:col: message [rule]") and exits 1 when there is any.
//
// Usage: node lint.js FILE...   (*.yml / *.yaml are workflows, the rest Dockerfiles)
//
// CommonJS with no dependency on newer globals, so that it runs on Debian 12's
// Node.js 18 as well as on newer releases.
"use strict";

const fs = require("fs");
const path = require("path");
const { webcrypto } = require("crypto");

const toolDir = __dirname;
const actionlintDir = path.join(toolDir, "node_modules", "@tktco", "node-actionlint");

function finding(file, line, column, message, rule) {
  return { file, line, column, message, rule };
}

// ---------------------------------------------------------------- workflows

let actionlintPromise = null;

// Starts the Go WebAssembly build of actionlint once; resolves to its
// runActionlint(source, path) function.
function loadActionlint() {
  if (actionlintPromise) return actionlintPromise;
  actionlintPromise = (async () => {
    // Go's wasm_exec.js needs crypto.getRandomValues, a global only from Node 19.
    if (!globalThis.crypto) globalThis.crypto = webcrypto;
    global.throwError = (message) => {
      throw new Error(message);
    };
    require(path.join(actionlintDir, "wasm_exec.js"));
    const go = new globalThis.Go();
    const wasm = fs.readFileSync(path.join(actionlintDir, "main.wasm"));
    const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
    go.run(instance); // registers globalThis.runActionlint and keeps running
    if (typeof globalThis.runActionlint !== "function") {
      throw new Error("actionlint did not start: runActionlint is missing");
    }
    return globalThis.runActionlint;
  })();
  return actionlintPromise;
}

// Third-party actions must be pinned to a full commit SHA: a tag can be moved
// to other code after review.
function unpinnedActions(file, source) {
  const results = [];
  source.split("\n").forEach((text, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)/.exec(text);
    if (!match) return;
    const target = match[1];
    if (target.startsWith("./") || target.startsWith("docker://")) return;
    const at = target.lastIndexOf("@");
    const ref = at < 0 ? "" : target.slice(at + 1);
    if (!/^[0-9a-f]{40}$/.test(ref)) {
      results.push(finding(file, index + 1, text.indexOf(target) + 1,
        `"${target}" is not pinned to a full commit SHA; use owner/repo@<40-hex sha> # vX.Y.Z`,
        "pinned-actions"));
    } else if (!/#\s*v\d/.test(text)) {
      results.push(finding(file, index + 1, text.indexOf(target) + 1,
        `"${target}" needs a "# vX.Y.Z" comment naming the version the SHA stands for`,
        "pinned-actions"));
    }
  });
  return results;
}

async function lintWorkflow(file) {
  const source = fs.readFileSync(file, "utf8");
  const runActionlint = await loadActionlint();
  const results = (runActionlint(source, file) || [])
    .filter((r) => r && r.message)
    .map((r) => finding(file, r.line, r.column, r.message, r.kind));
  return results.concat(unpinnedActions(file, source));
}

// -------------------------------------------------------------- Dockerfiles

// Every check dockerfile-utils can make, as an error rather than a warning or
// nothing (its defaults ignore some).
function strictDockerfileSettings() {
  const { ValidationSeverity } = require("dockerfile-utils");
  const names = [
    "deprecatedMaintainer", "directiveCasing", "emptyContinuationLine",
    "instructionCasing", "instructionCmdMultiple", "instructionEntrypointMultiple",
    "instructionHealthcheckMultiple", "instructionJSONInSingleQuotes",
    "instructionWorkdirRelative",
  ];
  const settings = {};
  for (const name of names) settings[name] = ValidationSeverity.ERROR;
  return settings;
}

// Splits a Dockerfile into instructions: { keyword, args, line } with
// continuation lines joined and comments dropped.
function instructions(source) {
  const result = [];
  let current = null;
  source.split("\n").forEach((raw, index) => {
    const text = raw.replace(/\r$/, "");
    if (current === null) {
      if (/^\s*(#|$)/.test(text)) return;
      const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(text);
      if (!match) return;
      current = { keyword: match[1].toUpperCase(), args: match[2], line: index + 1 };
    } else if (/^\s*#/.test(text)) {
      return; // comment lines inside a continued instruction are skipped by Docker too
    } else {
      current.args += " " + text.trim();
    }
    if (/\\$/.test(current.args)) {
      current.args = current.args.replace(/\\$/, "");
    } else {
      result.push(current);
      current = null;
    }
  });
  if (current) result.push(current);
  return result;
}

// CMD, ENTRYPOINT and HEALTHCHECK in exec form must be valid JSON: otherwise
// Docker silently runs them through /bin/sh, and the agent does not get SIGTERM.
function execFormFindings(file, all) {
  const results = [];
  for (const ins of all) {
    let body;
    if (ins.keyword === "CMD" || ins.keyword === "ENTRYPOINT") {
      body = ins.args.trim();
      if (!body.startsWith("[")) {
        results.push(finding(file, ins.line, 1, `${ins.keyword} must use the exec (JSON array) form so signals reach the process`, "exec-form"));
        continue;
      }
    } else if (ins.keyword === "HEALTHCHECK" && /\bCMD\s+\[/.test(ins.args)) {
      body = ins.args.slice(ins.args.search(/\bCMD\s+\[/) + 3).trim();
    } else {
      continue;
    }
    let valid = false;
    try {
      const parsed = JSON.parse(body);
      valid = Array.isArray(parsed) && parsed.every((x) => typeof x === "string");
    } catch (error) {
      valid = false;
    }
    if (!valid) {
      results.push(finding(file, ins.line, 1, `${ins.keyword} looks like exec form but is not a JSON array of strings (Docker would run it through /bin/sh)`, "exec-form"));
    }
  }
  return results;
}

// Groups instructions by build stage: { from, base, name, body }.
function stagesOf(all) {
  const stages = [];
  for (const ins of all) {
    if (ins.keyword === "FROM") {
      const words = ins.args.split(/\s+/).filter((w) => w && !w.startsWith("--"));
      const name = words.length >= 3 && words[1].toLowerCase() === "as" ? words[2] : null;
      stages.push({ from: ins, base: words[0], name, body: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].body.push(ins);
    }
  }
  return stages;
}

// The final image must drop root and say how to check its health. Both carry
// over from a stage to the stages built FROM it, so the stage's ancestors count.
function finalImageFindings(file, all) {
  const stages = stagesOf(all);
  if (stages.length === 0) return [];
  const finalStage = stages[stages.length - 1];
  const chain = [];
  for (let stage = finalStage; stage && !chain.includes(stage);) {
    chain.push(stage);
    const base = stage.base;
    stage = stages.slice(0, stages.indexOf(stage)).reverse().find((s) => s.name === base);
  }
  const lastOf = (keyword) => {
    for (const stage of chain) {
      const found = stage.body.filter((ins) => ins.keyword === keyword).pop();
      if (found) return found;
    }
    return null;
  };
  const results = [];
  const user = lastOf("USER");
  if (!user) {
    results.push(finding(file, finalStage.from.line, 1, "no USER in the final image: the agent would run as root", "non-root"));
  } else if (/^(root|0)(:|$)/.test(user.args.trim())) {
    results.push(finding(file, user.line, 1, "the final image runs as root", "non-root"));
  }
  if (!lastOf("HEALTHCHECK")) {
    results.push(finding(file, finalStage.from.line, 1, "the final image has no HEALTHCHECK", "healthcheck"));
  }
  return results;
}

function lintDockerfile(file) {
  const { validate } = require("dockerfile-utils");
  const source = fs.readFileSync(file, "utf8");
  const results = validate(source, strictDockerfileSettings()).map((d) =>
    finding(file, d.range.start.line + 1, d.range.start.character + 1, d.message, `dockerfile-utils ${d.code}`));
  const all = instructions(source);
  return results.concat(execFormFindings(file, all), finalImageFindings(file, all));
}

// --------------------------------------------------------------------- main

async function main(files) {
  if (files.length === 0) {
    console.error("usage: lint.js FILE...  (workflows: *.yml/*.yaml; anything else is read as a Dockerfile)");
    return 2;
  }
  let findings = [];
  for (const file of files) {
    if (!fs.existsSync(file)) {
      findings.push(finding(file, 0, 0, "file not found", "input"));
      continue;
    }
    const isWorkflow = /\.ya?ml$/.test(file);
    findings = findings.concat(isWorkflow ? await lintWorkflow(file) : lintDockerfile(file));
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.rule}]`);
  console.error(`lint: ${files.length} file(s), ${findings.length} finding(s)`);
  return findings.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`lint: ${error && error.stack ? error.stack : error}`);
    process.exit(2);
  });
