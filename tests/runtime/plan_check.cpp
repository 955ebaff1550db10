// What the generator puts in flash (kPlan's ChannelQuant and constant tensor records) against
// the runtime computing it into the arena, on one generated model (model/ from the test):
//   "plan <status> <arena_required> <kArenaSize>"   the generated plan
//   "computed <status> <arena_required>"            without ChannelQuant
//   "same-outputs <0|1>"                            on the input bytes from stdin
//   "tampered <status> <error_op>"                  one ChannelQuant entry miscounted
//   "arena-records <status> <arena_required>"       without the constant records
//   "same-outputs-records <0|1>"
//   "tampered-record <status>"                      one constant record's zero point changed
//   "tampered-op <status> <error_op>"               the first planned op data's first field + 1
//                                                   (built with -D MF_VERIFY_PLAN=1 and
//                                                   -D MF_TAMPER_TYPE=<its OpData type>)
// With a full plan (model::kPlan.full, checked by the verifying init against the reader's):
//   "tampered-node <status>"                        node 0's first input and last output swapped
//   "tampered-full-record <status>"                 an activation record moved by 16 bytes
//   "tampered-io <status>"                          the graph's output id changed
// The other interpreters drop the full plan and use their own arena (the reader's path).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utility>
#include <vector>

#include "model/model.h"
#include "model/model_data.h"

namespace {

#if !MF_MODEL_FULL_PLAN
alignas(16) uint8_t g_arena_a[1 << 20];
#endif
alignas(16) uint8_t g_arena_b[1 << 20];

std::vector<uint8_t> run(mf::Interpreter& it, const std::vector<uint8_t>& in) {
  memcpy(it.input(0)->data, in.data(), it.input(0)->bytes);
  std::vector<uint8_t> out;
  if (it.invoke() != mf::Status::kOk) return out;
  const mf::Tensor* t = it.output(0);
  out.assign(static_cast<const uint8_t*>(t->data), static_cast<const uint8_t*>(t->data) + t->bytes);
  return out;
}

}  // namespace

int main() {
  std::vector<uint8_t> in(1 << 20);
  in.resize(fread(in.data(), 1, in.size(), stdin));

#if MF_MODEL_FULL_PLAN
  uint8_t* const arena_a = model::kArena;  // a full plan's records point into it
  const size_t arena_a_bytes = model::kArenaBytes;
#else
  uint8_t* const arena_a = g_arena_a;
  const size_t arena_a_bytes = sizeof(g_arena_a);
#endif
  mf::Interpreter a(model::kData, model::kSize, model::kOps, arena_a, arena_a_bytes, &model::kPlan);
  const mf::Status sa = a.init();
  printf("plan %s %zu %zu\n", mf::status_name(sa), a.arena_required(), model::kArenaSize);

  mf::MemoryPlan computed = model::kPlan;
  computed.full = nullptr;
  computed.channel_quant = nullptr;
  computed.planned_ops = nullptr;
  computed.num_ops = 0;
  mf::Interpreter b(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &computed);
  const mf::Status sb = b.init();
  printf("computed %s %zu\n", mf::status_name(sb), b.arena_required());
  if (sa != mf::Status::kOk || sb != mf::Status::kOk || in.size() < a.input(0)->bytes) return 1;
  const std::vector<uint8_t> oa = run(a, in), ob = run(b, in);
  printf("same-outputs %d\n", !oa.empty() && oa == ob ? 1 : 0);

  if (model::kPlan.channel_quant != nullptr) {
    std::vector<mf::ChannelQuant> bad(model::kPlan.channel_quant,
                                      model::kPlan.channel_quant + model::kOperators);
    for (auto& q : bad) {
      if (q.channels > 0) {
        q.channels += 1;
        break;
      }
    }
    mf::MemoryPlan tampered = model::kPlan;
    tampered.full = nullptr;
    tampered.channel_quant = bad.data();
    mf::Interpreter c(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &tampered);
    const mf::Status sc = c.init();
    printf("tampered %s %ld\n", mf::status_name(sc), static_cast<long>(c.error_op()));
  }

  mf::MemoryPlan arena_records = model::kPlan;
  arena_records.full = nullptr;
  arena_records.constant_tensors = nullptr;
  arena_records.record_index = nullptr;
  arena_records.num_constants = 0;
  mf::Interpreter d(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &arena_records);
  const mf::Status sd = d.init();
  printf("arena-records %s %zu\n", mf::status_name(sd), d.arena_required());
  if (sd != mf::Status::kOk) return 1;
  const std::vector<uint8_t> od = run(d, in), oa2 = run(a, in);
  printf("same-outputs-records %d\n", !od.empty() && od == oa2 ? 1 : 0);

  if (model::kConstantRecords > 0) {
    std::vector<mf::Tensor> bad(model::kPlan.constant_tensors,
                                model::kPlan.constant_tensors + model::kConstantRecords);
    bad.back().zero_point += 1;
    mf::MemoryPlan tampered = model::kPlan;
    tampered.full = nullptr;
    tampered.constant_tensors = bad.data();
    mf::Interpreter e(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &tampered);
    printf("tampered-record %s\n", mf::status_name(e.init()));
  }
#ifdef MF_TAMPER_TYPE
  if (model::kPlan.planned_ops != nullptr) {
    std::vector<mf::PlannedOp> ops(model::kPlan.planned_ops, model::kPlan.planned_ops + model::kOperators);
    size_t i = 0;
    while (i < ops.size() && ops[i].op_data == nullptr) ++i;
    MF_TAMPER_TYPE copy = *static_cast<const MF_TAMPER_TYPE*>(ops[i].op_data);
    int32_t first = 0;
    memcpy(&first, &copy, sizeof(first));
    first += 1;
    memcpy(&copy, &first, sizeof(first));
    ops[i].op_data = &copy;
    mf::MemoryPlan tampered = model::kPlan;
    tampered.full = nullptr;
    tampered.planned_ops = ops.data();
    mf::Interpreter f(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &tampered);
    const mf::Status sf = f.init();
    printf("tampered-op %s %ld\n", mf::status_name(sf), static_cast<long>(f.error_op()));
  }
#endif
  if (const mf::FullPlan* full = model::kPlan.full) {
    std::vector<mf::Node> nodes(full->nodes, full->nodes + full->num_nodes);
    std::vector<mf::Tensor*> slots(nodes[0].inputs, nodes[0].outputs() + nodes[0].num_outputs);
    std::swap(slots.front(), slots.back());
    nodes[0].inputs = slots.data();
    mf::FullPlan bad_nodes = *full;
    bad_nodes.nodes = nodes.data();
    mf::MemoryPlan p1 = model::kPlan;
    p1.full = &bad_nodes;
    mf::Interpreter g(model::kData, model::kSize, model::kOps, arena_a, arena_a_bytes, &p1);
    printf("tampered-node %s\n", mf::status_name(g.init()));

    std::vector<mf::Tensor> records(full->records, full->records + model::kTensors);
    for (mf::Tensor& t : records) {
      if (!t.is_constant && t.data != nullptr) {
        t.data = static_cast<uint8_t*>(t.data) + 16;
        break;
      }
    }
    mf::FullPlan bad_records = *full;
    bad_records.records = records.data();
    mf::MemoryPlan p2 = model::kPlan;
    p2.full = &bad_records;
    mf::Interpreter h(model::kData, model::kSize, model::kOps, arena_a, arena_a_bytes, &p2);
    printf("tampered-full-record %s\n", mf::status_name(h.init()));

    std::vector<int32_t> outputs(full->outputs, full->outputs + full->num_outputs);
    outputs[0] = full->inputs[0];
    mf::FullPlan bad_io = *full;
    bad_io.outputs = outputs.data();
    mf::MemoryPlan p3 = model::kPlan;
    p3.full = &bad_io;
    mf::Interpreter k(model::kData, model::kSize, model::kOps, arena_a, arena_a_bytes, &p3);
    printf("tampered-io %s\n", mf::status_name(k.init()));
  }
  return 0;
}
