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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "model/model.h"
#include "model/model_data.h"

namespace {

alignas(16) uint8_t g_arena_a[1 << 20];
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

  mf::Interpreter a(model::kData, model::kSize, model::kOps, g_arena_a, sizeof(g_arena_a), &model::kPlan);
  const mf::Status sa = a.init();
  printf("plan %s %zu %zu\n", mf::status_name(sa), a.arena_required(), model::kArenaSize);

  mf::MemoryPlan computed = model::kPlan;
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
    tampered.channel_quant = bad.data();
    mf::Interpreter c(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &tampered);
    const mf::Status sc = c.init();
    printf("tampered %s %ld\n", mf::status_name(sc), static_cast<long>(c.error_op()));
  }

  mf::MemoryPlan arena_records = model::kPlan;
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
    tampered.planned_ops = ops.data();
    mf::Interpreter f(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &tampered);
    const mf::Status sf = f.init();
    printf("tampered-op %s %ld\n", mf::status_name(sf), static_cast<long>(f.error_op()));
  }
#endif
  return 0;
}
