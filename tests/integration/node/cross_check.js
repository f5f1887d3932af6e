#!/usr/bin/env node
// Cross-implementation check: drives perfcast-server from Node's @grpc/grpc-js (pure JavaScript
// HTTP/2 and protobufjs, nothing shared with the server's C++ gRPC stack) and checks Predict,
// SubmitBenchmarks (client streaming), grpc.health.v1 Check and grpc.reflection.v1alpha.
//
//   node cross_check.js HOST:PORT          (or PERFCAST_SERVER=HOST:PORT node cross_check.js)
//
// The server must be serving a model trained on the default data (the NVIDIA H100 vllm
// Meta-Llama-3-8B curve is queried). Writes results with a fresh source_id, so it can run
// against the same server repeatedly. Exit status 0 when every check passed.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const CALL_DEADLINE_MS = 10000;
const REPO_PROTO_DIR = path.join(__dirname, '..', '..', '..', 'proto');
const LOCAL_PROTO_DIR = path.join(__dirname, 'proto');
// The Python client's copy of the standard health protocol (same package and field numbers).
const HEALTH_PROTO_DIR =
    path.join(__dirname, '..', '..', '..', 'clients', 'python', 'proto', 'perfcast_grpc_health', 'v1');

const LOADER_OPTIONS = {keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true};

function load(file, includeDir) {
  return grpc.loadPackageDefinition(
      protoLoader.loadSync(file, {...LOADER_OPTIONS, includeDirs: [includeDir]}));
}

function deadline() {
  return new Date(Date.now() + CALL_DEADLINE_MS);
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, {deadline: deadline()}, (error, response) => {
      if (error) reject(error); else resolve(response);
    });
  });
}

// Resolves with the error of a call expected to fail.
async function failure(client, method, request) {
  try {
    await unary(client, method, request);
  } catch (error) {
    return error;
  }
  assert.fail(`${method} succeeded; expected an error`);
}

const H100 = {
  hardware: 'NVIDIA H100', gpu_count: 1, framework: 'vllm',
  model: 'meta-llama/Meta-Llama-3-8B', precision: 'fp16',
};
const NODE_CONFIG = {
  hardware: 'NODE-CROSS-CHECK-GPU', gpu_count: 1, framework: 'grpc-js',
  model: 'perfcast/node-cross-check', precision: 'fp16',
};

async function checkHealth(health) {
  for (const service of ['', 'perfcast.v1.PredictionService', 'perfcast.v1.ModelService']) {
    const response = await unary(health, 'Check', {service});
    assert.equal(response.status, 'SERVING', `health of "${service}"`);
  }
  const unknown = await failure(health, 'Check', {service: 'no.such.Service'});
  assert.equal(unknown.code, grpc.status.NOT_FOUND, `unknown service: ${unknown.message}`);
}

async function checkPredict(prediction) {
  const batchSizes = [1, 8, 64];
  const response = await unary(prediction, 'Predict', {
    queries: [
      {configuration: H100, input_tokens: 128, output_tokens: 128, batch_sizes: batchSizes},
      {configuration: H100, input_tokens: 128, output_tokens: 128, batch_sizes: [8],
       confidence_level: 0.99},
    ],
  });
  assert.ok(response.model_version >= 1, `model_version=${response.model_version}`);
  assert.equal(response.predictions.length, 2);
  const [curve, wide] = response.predictions;
  assert.deepEqual(curve.points.map((p) => p.batch_size), batchSizes);
  assert.ok(Math.abs(curve.confidence_level - 0.9) < 1e-9, `level ${curve.confidence_level}`);
  assert.ok(Math.abs(wide.confidence_level - 0.99) < 1e-9, `level ${wide.confidence_level}`);
  for (const p of curve.points) {
    assert.ok(p.throughput_tokens_per_second > 0, JSON.stringify(p));
    assert.ok(p.throughput_lower_tokens_per_second >= 0, JSON.stringify(p));
    assert.ok(p.throughput_lower_tokens_per_second <= p.throughput_tokens_per_second);
    assert.ok(p.throughput_tokens_per_second <= p.throughput_upper_tokens_per_second);
    assert.notEqual(p.prediction_case, 'PREDICTION_CASE_UNSPECIFIED');
    // Llama-3-8B in fp16 (15 GiB of weights) fits on one 80 GB H100 at these batches.
    assert.equal(p.memory_fit, 'MEMORY_FIT_FITS', JSON.stringify(p));
    assert.match(p.memory_fit_reason, /GiB usable of one NVIDIA H100 SXM 80GB/);
    assert.ok(p.memory_required_gib_per_gpu > 14, JSON.stringify(p));
    assert.ok(p.memory_required_gib_per_gpu <= p.memory_available_gib_per_gpu, JSON.stringify(p));
    // TTFT and ITL: means where the model learned latencies (the seed rows may have none), and
    // then they agree with the batch latency (batch latency = TTFT + (output - 1) x ITL);
    // otherwise unset.
    if (p.latency_statistic === 'LATENCY_STATISTIC_MEAN') {
      assert.ok(p.ttft_lower_seconds <= p.ttft_seconds && p.ttft_seconds <= p.ttft_upper_seconds);
      assert.ok(p.itl_lower_seconds <= p.itl_seconds && p.itl_seconds <= p.itl_upper_seconds);
      assert.ok(p.ttft_seconds > 0 && p.itl_seconds > 0, JSON.stringify(p));
      const composed = p.ttft_seconds + (128 - 1) * p.itl_seconds;
      assert.ok(Math.abs(composed - p.batch_latency_seconds) <= 1e-9 * p.batch_latency_seconds,
                `TTFT + 127 ITL = ${composed}, batch latency ${p.batch_latency_seconds}`);
      // 99th percentiles: answered only for a query that names a campaign whose results carried
      // them; this one names none (the population), so the fields are there and 0.
      for (const tail of ['p99_ttft', 'p99_tpot']) {
        for (const field of [`${tail}_seconds`, `${tail}_lower_seconds`, `${tail}_upper_seconds`]) {
          assert.equal(p[field], 0, `${field}: ${JSON.stringify(p)}`);
        }
      }
    } else {
      assert.equal(p.latency_statistic, 'LATENCY_STATISTIC_UNSPECIFIED', JSON.stringify(p));
      assert.equal(p.ttft_seconds, 0);
      assert.equal(p.itl_seconds, 0);
    }
  }
  assert.ok(curve.largest_fitting_batch_size >= 64, `largest ${curve.largest_fitting_batch_size}`);
  // Throughput grows with the batch on a measured curve; a higher level widens the interval.
  const [at1, at8, at64] = curve.points;
  assert.ok(at64.throughput_tokens_per_second > at1.throughput_tokens_per_second);
  const width = (p) => p.throughput_upper_tokens_per_second - p.throughput_lower_tokens_per_second;
  assert.ok(width(wide.points[0]) > width(at8), 'a 0.99 interval must be wider than a 0.9 one');

  // Llama-2-70B in fp16 (128.5 GiB of weights) cannot run on one 80 GB H100: answered, not
  // refused, with no throughput and the reason.
  const tooBig = await unary(prediction, 'Predict', {
    queries: [{configuration: {...H100, model: 'meta-llama/Llama-2-70b-hf'}, input_tokens: 128,
               output_tokens: 128, batch_sizes: [1]}],
  });
  const [big] = tooBig.predictions[0].points;
  assert.equal(big.memory_fit, 'MEMORY_FIT_DOES_NOT_FIT', JSON.stringify(big));
  assert.equal(big.throughput_tokens_per_second, 0);
  assert.match(big.memory_fit_reason, /weights 128\.5 GiB per GPU > 72\.0 GiB usable/);
  assert.equal(tooBig.predictions[0].largest_fitting_batch_size, 0);

  const invalid = await failure(prediction, 'Predict', {
    queries: [{configuration: H100, input_tokens: -5, output_tokens: 128, batch_sizes: [1]}],
  });
  assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT, invalid.message);
  assert.match(invalid.details, /input_tokens/, 'the error names the field');
  return response.model_version;
}

function submitStream(model, chunks) {
  return new Promise((resolve, reject) => {
    const call = model.SubmitBenchmarks({deadline: deadline()}, (error, response) => {
      if (error) reject(error); else resolve(response);
    });
    for (const results of chunks) call.write({results});
    call.end();
  });
}

async function checkSubmitBenchmarks(model) {
  const sourceId = `node-cross-check-${process.pid}-${Date.now()}`;
  // With a mean TTFT and the 99th percentiles of TTFT and TPOT, as a serving benchmark reports.
  const result = (batchSize, throughput) => ({
    source_id: sourceId, configuration: NODE_CONFIG, input_tokens: 128, output_tokens: 128,
    batch_size: batchSize, throughput_tokens_per_second: throughput,
    measure_time: {seconds: Math.floor(Date.now() / 1000), nanos: 0},
    time_to_first_token_seconds: 0.05, p99_time_to_first_token_seconds: 0.2,
    p99_time_per_output_token_seconds: 0.02,
  });
  // Index over the whole stream: 0, 1 | 2 (NaN), 3 (a repeat of 0 in the same stream).
  const response = await submitStream(model, [
    [result(1, 150.5), result(8, 1010.25)],
    [result(16, NaN), result(1, 150.5)],
  ]);
  assert.equal(response.accepted_count, 2, JSON.stringify(response));
  assert.equal(response.rejected_count, 1, JSON.stringify(response));
  assert.equal(response.duplicate_count, 1, JSON.stringify(response));
  assert.equal(response.rejections.length, 1);
  const [rejection] = response.rejections;
  assert.equal(rejection.index, 2);
  assert.equal(rejection.source_id, sourceId);
  assert.equal(rejection.field, 'throughput_tokens_per_second');
  assert.match(rejection.reason, /nan/i, 'the reason shows the value');

  // The same results again: duplicates, nothing new stored.
  const again = await submitStream(model, [[result(1, 150.5), result(8, 1010.25)]]);
  assert.equal(again.accepted_count, 0, JSON.stringify(again));
  assert.equal(again.duplicate_count, 2, JSON.stringify(again));
}

// Reads FileDescriptorProto.name (field 1, a string) from a serialized descriptor.
function descriptorName(bytes) {
  assert.equal(bytes[0], 0x0a, 'FileDescriptorProto starts with its name (field 1)');
  let length = 0;
  let shift = 0;
  let i = 1;
  for (;; i++, shift += 7) {
    length |= (bytes[i] & 0x7f) << shift;
    if ((bytes[i] & 0x80) === 0) break;
  }
  return bytes.subarray(i + 1, i + 1 + length).toString('utf8');
}

function checkReflection(reflection) {
  return new Promise((resolve, reject) => {
    const call = reflection.ServerReflectionInfo({deadline: deadline()});
    const responses = [];
    call.on('data', (response) => {
      responses.push(response);
      if (responses.length === 2) call.end();
    });
    call.on('error', reject);
    call.on('end', () => {
      try {
        assert.equal(responses.length, 2, 'one response per request');
        const [list, file] = responses;
        assert.equal(list.message_response, 'list_services_response', JSON.stringify(list));
        const names = list.list_services_response.service.map((s) => s.name);
        for (const expected of ['perfcast.v1.PredictionService', 'perfcast.v1.ModelService',
          'grpc.reflection.v1alpha.ServerReflection']) {
          assert.ok(names.includes(expected), `reflection lists ${expected}: ${names}`);
        }
        assert.equal(file.message_response, 'file_descriptor_response', JSON.stringify(file));
        const descriptors = file.file_descriptor_response.file_descriptor_proto;
        assert.ok(descriptors.length >= 1);
        assert.equal(descriptorName(descriptors[0]), 'perfcast/v1/perfcast.proto');
        resolve(names);
      } catch (error) {
        reject(error);
      }
    });
    call.write({list_services: ''});
    call.write({file_containing_symbol: 'perfcast.v1.PredictionService'});
  });
}

async function main() {
  const target = process.argv[2] || process.env.PERFCAST_SERVER;
  if (!target) {
    console.error('usage: node cross_check.js HOST:PORT (or set PERFCAST_SERVER)');
    return 2;
  }
  const perfcast = load('perfcast/v1/perfcast.proto', REPO_PROTO_DIR).perfcast.v1;
  const health = load('health.proto', HEALTH_PROTO_DIR).grpc.health.v1;
  const reflection = load('reflection_v1alpha.proto', LOCAL_PROTO_DIR).grpc.reflection.v1alpha;
  const credentials = grpc.credentials.createInsecure();
  const clients = {
    health: new health.Health(target, credentials),
    prediction: new perfcast.PredictionService(target, credentials),
    model: new perfcast.ModelService(target, credentials),
    reflection: new reflection.ServerReflection(target, credentials),
  };
  const checks = [
    ['health Check', () => checkHealth(clients.health)],
    ['Predict', () => checkPredict(clients.prediction)],
    ['SubmitBenchmarks (client stream)', () => checkSubmitBenchmarks(clients.model)],
    ['reflection v1alpha ServerReflectionInfo', () => checkReflection(clients.reflection)],
  ];
  let failed = 0;
  for (const [name, check] of checks) {
    try {
      await check();
      console.log(`ok - ${name}`);
    } catch (error) {
      failed++;
      console.log(`not ok - ${name}: ${error.stack || error}`);
    }
  }
  for (const client of Object.values(clients)) client.close();
  const grpcJsVersion = require('@grpc/grpc-js/package.json').version;
  console.log(`grpc-js ${grpcJsVersion}, node ${process.version}: ` +
              `${checks.length - failed}/${checks.length} checks passed`);
  return failed === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error) => {
  console.error(error);
  process.exitCode = 1;
});
