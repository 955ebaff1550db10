// The generator's per-channel requantization (kPlan's ChannelQuant, in flash) against the
// runtime computing it in the arena, on one generated model (model/ from the test):
//   line 1: "plan <status> <arena_required> <kArenaSize>"      the generated plan
//   line 2: "computed <status> <arena_required>"               the same plan without ChannelQuant
//   line 3: "same-outputs <0|1>"                               on the input bytes from stdin
//   line 4: "tampered <status> <error_op>"                     one ChannelQuant entry miscounted
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
  computed.num_ops = 0;
  mf::Interpreter b(model::kData, model::kSize, model::kOps, g_arena_b, sizeof(g_arena_b), &computed);
  const mf::Status sb = b.init();
  printf("computed %s %zu\n", mf::status_name(sb), b.arena_required());
  if (sa != mf::Status::kOk || sb != mf::Status::kOk || in.size() < a.input(0)->bytes) return 1;
  const std::vector<uint8_t> oa = run(a, in), ob = run(b, in);
  printf("same-outputs %d\n", !oa.empty() && oa == ob ? 1 : 0);

  std::vector<mf::ChannelQuant> bad(model::kPlan.channel_quant, model::kPlan.channel_quant + model::kOperators);
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
  return 0;
}
