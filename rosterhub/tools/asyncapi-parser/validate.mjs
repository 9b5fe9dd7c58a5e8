// Validate an AsyncAPI document with the official parser (@asyncapi/parser).
// Usage: node validate.mjs FILE
//
// @asyncapi/parser 3.x runs custom schema parsers' validation only for AsyncAPI 2.x
// documents; for 3.x it converts Avro payloads without checking them. So after the
// parser's own diagnostics, every Avro payload (and Avro Kafka key) is also passed to
// @asyncapi/avro-schema-parser's validate(), the check the parser runs for 2.x.
// Prints every diagnostic as "severity path: message", then "FILE: E error(s), W warning(s), O other
// diagnostic(s)" (others: information and hints); exits 1 when any is an error (or the document cannot
// be read), 0 otherwise.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Parser, fromFile, DiagnosticSeverity } from "@asyncapi/parser";
import { AvroSchemaParser } from "@asyncapi/avro-schema-parser";
import yaml from "js-yaml";

const SEVERITY = { 0: "error", 1: "warning", 2: "information", 3: "hint" };

function* messagesOf(doc) {
  for (const [id, msg] of Object.entries(doc?.components?.messages ?? {})) {
    yield [["components", "messages", id], msg];
  }
  for (const [cid, channel] of Object.entries(doc?.channels ?? {})) {
    for (const [id, msg] of Object.entries(channel?.messages ?? {})) {
      if (msg && !("$ref" in msg)) yield [["channels", cid, "messages", id], msg];
    }
  }
}

async function avroDiagnostics(raw, avro) {
  const found = [];
  for (const [path, msg] of messagesOf(raw)) {
    const payload = msg?.payload;
    const format = payload?.schemaFormat;
    if (typeof format !== "string" || !avro.getMimeTypes().includes(format)) continue;
    const schemaPath = [...path, "payload", "schema"];
    const inputs = [[schemaPath, payload.schema]];
    const key = msg?.bindings?.kafka?.key;
    if (key && typeof key === "object" && !("$ref" in key) && key.type !== "string") {
      inputs.push([[...path, "bindings", "kafka", "key"], key]);
    }
    for (const [p, data] of inputs) {
      const problems = await avro.validate({ data, path: p, schemaFormat: format, asyncapi: raw, meta: {} });
      for (const d of problems) found.push({ severity: DiagnosticSeverity.Error, path: p, message: d.message, code: "avro-schema" });
    }
  }
  return found;
}

async function main(file) {
  if (!file) {
    console.error("usage: node validate.mjs FILE");
    return 2;
  }
  const path = resolve(file);
  const raw = yaml.load(await readFile(path, "utf8"));
  const avro = AvroSchemaParser();
  const parser = new Parser();
  parser.registerSchemaParser(avro);
  const { document, diagnostics } = await fromFile(parser, path).parse();
  const all = [...diagnostics, ...(await avroDiagnostics(raw, avro))];
  let errors = 0;
  let warnings = 0;
  for (const d of all) {
    if (d.severity === DiagnosticSeverity.Error) errors += 1;
    if (d.severity === DiagnosticSeverity.Warning) warnings += 1;
    console.log(`${SEVERITY[d.severity] ?? d.severity} ${(d.path ?? []).join(".")}: ${d.message} [${d.code}]`);
  }
  if (document === undefined && errors === 0) errors = 1;
  console.log(`${path}: ${errors} error(s), ${warnings} warning(s), ${all.length - errors - warnings} other diagnostic(s)`);
  return errors === 0 ? 0 : 1;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`cannot validate: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
