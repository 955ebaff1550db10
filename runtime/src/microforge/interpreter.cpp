// Interpreter: verifies the model, lays out the arena, prepares and runs nodes.
//
// Arena layout (activations 16-byte aligned, the rest 8, sizes exactly as mf::arena_bytes):
//   [activations | Tensor[records] | Node[num_nodes] | Registration*[num_nodes]
//    | Tensor*[io_slots] | per node: params, op_data]
// With a full plan (MemoryPlan::full) the arena is the activations only: records, nodes and
// registrations are the generator's, in flash.
#include <string.h>

#include "microforge/runtime.h"

// -D MF_MODEL_FULL_PLAN=1 without MF_VERIFY_PLAN: the firmware's plan is full, so the model
// reader (and all of init_model) is left out.
#if defined(MF_MODEL_FULL_PLAN) && MF_MODEL_FULL_PLAN && !MF_VERIFY_PLAN
#define MF_READS_MODEL 0
#else
#define MF_READS_MODEL 1
#include "microforge/model_reader.h"
#endif

#ifdef MF_PROFILE_OPS
#include "microforge/port.h"
#endif

namespace mf {

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kBadModel: return "bad-model";
    case Status::kUnsupportedOp: return "unsupported-op";
    case Status::kUnsupportedType: return "unsupported-type";
    case Status::kArenaTooSmall: return "arena-too-small";
    case Status::kBadPlan: return "bad-plan";
    case Status::kBadArgument: return "bad-argument";
    case Status::kKernelError: return "kernel-error";
  }
  return "unknown";
}

size_t dtype_bytes(DType t) {
  switch (t) {
    case DType::kFloat32: case DType::kInt32: return 4;
    case DType::kFloat16: case DType::kInt16: return 2;
    case DType::kUInt8: case DType::kBool: case DType::kInt8: return 1;
    case DType::kInt64: return 8;
    case DType::kString: return 0;
  }
  return 0;
}

const Registration* OpResolver::find(int32_t builtin_code, int32_t version) const {
  for (size_t i = 0; i < count; ++i) {
    const Registration* r = regs[i];
    if (r != nullptr && r->builtin_code == builtin_code && version >= r->min_version &&
        version <= r->max_version) {
      return r;
    }
  }
  return nullptr;
}

namespace {

#if MF_READS_MODEL
// The channels of the arena contract: the number of per-channel quantization
// parameters of the operator's weights (input 1), or 0 when they are per-tensor
// or absent. Only per-channel ops need per-channel state.
int32_t out_channels(const tfl::ModelView& mv, const tfl::OpView& op) {
  int32_t idx = -1;
  Tensor t;
  if (!op.inputs.get(1, &idx) || idx < 0) return 0;
  if (tfl::read_tensor(mv, static_cast<uint32_t>(idx), &t) != Status::kOk) return 0;
  return t.num_channels > 1 ? t.num_channels : 0;
}

// The generator's ChannelQuant for operator i, or nullptr; false if the plan's
// entry contradicts the model (wrong channel count, missing arrays). An entry
// without channels is the node's only for its widened filter (a FULLY_CONNECTED
// with per-tensor weights).
bool plan_channel_quant(const MemoryPlan* plan, uint32_t i, int32_t channels,
                        const ChannelQuant** cq) {
  *cq = nullptr;
  if (plan == nullptr || plan->channel_quant == nullptr) return true;
  const ChannelQuant& q = plan->channel_quant[i];
  if (q.channels == 0) {
    if (q.wide != nullptr && q.multipliers == nullptr && q.shifts == nullptr && channels == 0) *cq = &q;
    return true;
  }
  if (q.channels != channels || q.multipliers == nullptr || q.shifts == nullptr) return false;
  *cq = &q;
  return true;
}

// The plan's params and op data of operator i, or nullptr when it has none.
const PlannedOp* planned_op(const MemoryPlan* plan, uint32_t i) {
  if (plan == nullptr || plan->planned_ops == nullptr) return nullptr;
  const PlannedOp& p = plan->planned_ops[i];
  return p.op_data != nullptr ? &p : nullptr;
}

#if MF_VERIFY_PLAN
// Runs the kernel's own parse and prepare for a planned node in scratch bytes and
// compares them with the plan's: the generator's mirror of prepare is checked on
// every model a verifying build runs (the host env's).
Status verify_planned(const Registration& reg, const FbTable& options, const Node& node,
                      int32_t channels) {
  alignas(8) uint8_t scratch[256];
  uint8_t* const params = scratch;
  uint8_t* const data = scratch + align_state(reg.params_bytes);
  const size_t data_bytes = reg.op_data_bytes(node.channel_quant != nullptr ? 0 : channels);
  if (data + data_bytes > scratch + sizeof(scratch)) return Status::kBadPlan;
  memset(scratch, 0, sizeof(scratch));
  Node own = node;  // the plan's node, with the kernel's own params and op data
  own.params = params;
  own.op_data = data;
  Status s = reg.parse(options, params);
  if (s == Status::kOk) s = reg.prepare(own);
  if (s != Status::kOk) return s;
  const bool same = (reg.params_bytes == 0 || memcmp(params, node.params, reg.params_bytes) == 0) &&
                    memcmp(data, node.op_data, reg.op_data_bytes(0)) == 0;
  return same ? Status::kOk : Status::kBadPlan;
}
#endif  // MF_VERIFY_PLAN

// A generator-built record equals what the model reader produced (dims of a
// rank-0 tensor are never read, so their address may differ).
bool same_record(const Tensor& a, const Tensor& b) {
  return a.data == b.data && (a.rank == 0 || a.dims == b.dims) && a.bytes == b.bytes &&
         a.num_channels == b.num_channels && memcmp(&a.scale, &b.scale, sizeof(float)) == 0 &&
         a.zero_point == b.zero_point && a.scales == b.scales && a.zero_points == b.zero_points &&
         a.rank == b.rank && a.type == b.type && a.is_constant == b.is_constant &&
         a.quantized_dimension == b.quantized_dimension;
}

// Checks tensor i's record_index entry (the counts of constant and arena records
// before it are `constants` and `records`) and, for a constant, its flash record.
bool record_entry_ok(const MemoryPlan& plan, uint32_t i, const Tensor& t, size_t constants,
                     size_t records) {
  const uint16_t e = plan.record_index[i];
  if (!t.is_constant) return e == records;
  return e == (MemoryPlan::kConstantRecord | constants) && constants < plan.num_constants &&
         same_record(plan.constant_tensors[constants], t);
}

uint64_t a16(uint64_t n) { return (n + 15u) & ~static_cast<uint64_t>(15u); }
uint64_t a8(uint64_t n) { return (n + 7u) & ~static_cast<uint64_t>(7u); }

// Channel counts beyond this cannot occur on a microcontroller; rejecting them
// keeps op_data_bytes() from overflowing a 32-bit size_t.
constexpr int32_t kMaxChannels = 1 << 24;

// Checks one tensor's plan entry; activation tensors without an offset are
// allowed here (unused), their use is checked when nodes are wired. Offsets may
// be equal or overlap: the generator aliases on purpose (a RESHAPE output on its
// dying input, an element-wise op writing in place), so overlap is not checked.
bool plan_entry_ok(const MemoryPlan& plan, size_t i, const Tensor& t) {
  const int32_t off = plan.offsets[i];
  if (off == MemoryPlan::kNoOffset) return true;
  if (t.is_constant || off < 0) return false;
  const size_t a = dtype_bytes(t.type);
  if (static_cast<size_t>(off) % a != 0) return false;
  return static_cast<size_t>(off) <= plan.activation_bytes &&
         t.bytes <= plan.activation_bytes - static_cast<size_t>(off);
}

#endif  // MF_READS_MODEL

// Tensor id -> its record: the arena's, or the plan's flash record of a constant.
Tensor* record_of(Tensor* arena_records, const MemoryPlan* plan, int32_t id) {
  if (plan == nullptr || plan->record_index == nullptr) return &arena_records[id];
  const uint16_t e = plan->record_index[id];
  if ((e & MemoryPlan::kConstantRecord) == 0) return &arena_records[e];
  // Never written through: kernels only read their inputs, init() rejects
  // constant outputs and graph inputs, and marks no constant in dataflow_check.
  return const_cast<Tensor*>(&plan->constant_tensors[e & ~MemoryPlan::kConstantRecord]);
}

#if MF_READS_MODEL
// Dataflow order, checked once in init(): every tensor an operator reads is a
// constant, a variable (the caller marks those), a graph input or an earlier
// operator's output; no tensor is written twice (graph inputs count as
// written); every graph output is written. This rejects cycles and operators
// that name one tensor as both input and output (in-place by tensor id, whose
// results would depend on the arena plan; in-place by plan offset is fine). During the check the
// top bit of Tensor::rank (<= kMaxRank, so the bit is free) marks "written"; it
// is cleared again before returning.
// Returns kOrderOk, the index of the first offending operator, or kOrderOutputs.
constexpr uint8_t kWritten = 0x80;
constexpr int64_t kOrderOk = -1, kOrderOutputs = -2;

int64_t dataflow_check(Tensor* records, size_t num_records, const MemoryPlan* plan,
                       const Node* nodes, size_t nn, const int32_t* in_ids, size_t nin,
                       const int32_t* out_ids, size_t nout) {
  for (size_t i = 0; i < nin; ++i) record_of(records, plan, in_ids[i])->rank |= kWritten;
  int64_t bad = kOrderOk;
  for (size_t i = 0; bad == kOrderOk && i < nn; ++i) {
    const Node& n = nodes[i];
    for (size_t k = 0; k < n.num_inputs; ++k) {
      const Tensor* t = n.inputs[k];
      const bool readable = t == nullptr || t->is_constant || (t->rank & kWritten) != 0;
      if (!readable) bad = static_cast<int64_t>(i);
    }
    for (size_t k = 0; k < n.num_outputs; ++k) {
      Tensor* t = n.outputs()[k];
      if (t->rank & kWritten) bad = static_cast<int64_t>(i);
      t->rank |= kWritten;
    }
  }
  for (size_t i = 0; bad == kOrderOk && i < nout; ++i) {
    if ((record_of(records, plan, out_ids[i])->rank & kWritten) == 0) bad = kOrderOutputs;
  }
  // Only arena records were marked (constants are read-only, in flash or not).
  for (size_t i = 0; i < num_records; ++i) records[i].rank &= static_cast<uint8_t>(~kWritten);
  return bad;
}
#endif  // MF_READS_MODEL

}  // namespace

Status Interpreter::fail(Status s, int32_t op, int32_t code) {
  error_op_ = op;
  error_code_ = code;
  return s;
}

Status Interpreter::init() {
  ready_ = full_ = false;
  error_op_ = error_code_ = -1;
  arena_required_ = arena_used_ = 0;
  num_inputs_ = num_outputs_ = 0;
  const bool full = plan_ != nullptr && plan_->full != nullptr;
#if !MF_VERIFY_PLAN
  if (full) return init_full();
#endif
#if MF_READS_MODEL
  Status s = init_model();
  if (s != Status::kOk || !full) return s;
#if MF_VERIFY_PLAN
  ready_ = false;
  s = verify_full();
  if (s != Status::kOk) return s;
#endif
  // The verified flash state is what runs; the figures stay the reader's (its tail is in use).
  const size_t required = arena_required_, used = arena_used_;
  s = init_full();
  arena_required_ = required;
  arena_used_ = used;
  return s;
#else
  return fail(Status::kBadPlan, -1, -1);  // this build has no model reader
#endif
}

Status Interpreter::init_full() {
  const FullPlan& p = *plan_->full;
  const size_t need = arena_bytes(plan_->activation_bytes, 0, 0, 0, 0);
  arena_required_ = need;
  if (arena_ == nullptr || (reinterpret_cast<uintptr_t>(arena_) & 15u) != 0) {
    return fail(Status::kBadArgument, -1, -1);
  }
  if (arena_ != p.arena || p.records == nullptr || p.nodes == nullptr || p.node_regs == nullptr ||
      (p.num_inputs > 0 && p.inputs == nullptr) || (p.num_outputs > 0 && p.outputs == nullptr)) {
    return fail(Status::kBadPlan, -1, -1);
  }
  if (arena_size_ < need) return fail(Status::kArenaTooSmall, -1, -1);
  nodes_ = p.nodes;
  regs_ = p.node_regs;
  num_nodes_ = p.num_nodes;
  input_ids_ = p.inputs;
  num_inputs_ = p.num_inputs;
  output_ids_ = p.outputs;
  num_outputs_ = p.num_outputs;
  arena_used_ = need;
  full_ = ready_ = true;
  return Status::kOk;
}

#if MF_VERIFY_PLAN
// After init_model(): every flash record, node, registration and io id of the full plan must
// be what the model reader and the kernels gave.
Status Interpreter::verify_full() const {
  const FullPlan& p = *plan_->full;
  const Tensor* const rec = p.records;
  const size_t nt = plan_->num_tensors;
  if (p.arena != arena_ || rec == nullptr || p.nodes == nullptr || p.node_regs == nullptr ||
      p.num_nodes != num_nodes_ ||
      p.num_inputs != num_inputs_ || p.num_outputs != num_outputs_) {
    return Status::kBadPlan;
  }
  for (size_t i = 0; i < num_inputs_; ++i) {
    if (p.inputs[i] != input_ids_[i]) return Status::kBadPlan;
  }
  for (size_t i = 0; i < num_outputs_; ++i) {
    if (p.outputs[i] != output_ids_[i]) return Status::kBadPlan;
  }
  for (size_t i = 0; i < nt; ++i) {
    if (!same_record(rec[i], *record_of(tensors_, plan_, static_cast<int32_t>(i)))) return Status::kBadPlan;
  }
  for (size_t i = 0; i < num_nodes_; ++i) {
    const Node& a = p.nodes[i];
    const Node& b = nodes_[i];
    if (p.node_regs[i] != regs_[i] || a.params != b.params || a.op_data != b.op_data ||
        a.channel_quant != b.channel_quant || a.num_inputs != b.num_inputs ||
        a.num_outputs != b.num_outputs) {
      return Status::kBadPlan;
    }
    for (size_t k = 0; k < static_cast<size_t>(a.num_inputs) + a.num_outputs; ++k) {
      const Tensor* q = a.inputs[k];
      if (q == nullptr ? b.inputs[k] != nullptr
                       : (q < rec || q >= rec + nt ||
                          record_of(tensors_, plan_, static_cast<int32_t>(q - rec)) != b.inputs[k])) {
        return Status::kBadPlan;
      }
    }
  }
  return Status::kOk;
}
#endif  // MF_VERIFY_PLAN

#if MF_READS_MODEL
Status Interpreter::init_model() {
  tfl::ModelView mv;
  Status s = tfl::open_model(model_, model_size_, &mv);
  if (s != Status::kOk) return fail(s, -1, -1);
  const uint32_t nt = mv.tensors.size();
  const uint32_t nn = mv.operators.size();
  if (plan_ != nullptr && (plan_->num_tensors != nt || (nt > 0 && plan_->offsets == nullptr) ||
                           (plan_->channel_quant != nullptr && plan_->num_ops != nn) ||
                           (plan_->planned_ops != nullptr && plan_->num_ops != nn) ||
                           ((plan_->constant_tensors == nullptr) != (plan_->record_index == nullptr)) ||
                           (plan_->record_index != nullptr && nt > MemoryPlan::kConstantRecord))) {
    return fail(Status::kBadPlan, -1, -1);
  }
  const bool flash_records = plan_ != nullptr && plan_->record_index != nullptr;

  // Pass 1: verify every tensor and operator, size everything.
  // Sizes are summed in 64 bits so a hostile model cannot wrap a 32-bit size_t.
  uint64_t bump = 0;
  size_t constants = 0, records = 0;  // flash and arena records so far
  for (uint32_t i = 0; i < nt; ++i) {
    Tensor t;
    s = tfl::read_tensor(mv, i, &t);
    if (s != Status::kOk) return fail(s, -1, -1);
    if (!t.is_constant) bump += align16(t.bytes);
    if (plan_ != nullptr && !plan_entry_ok(*plan_, i, t)) return fail(Status::kBadPlan, -1, -1);
    if (flash_records && !record_entry_ok(*plan_, i, t, constants, records)) {
      return fail(Status::kBadPlan, -1, -1);
    }
    if (flash_records && t.is_constant) ++constants;
    else ++records;
  }
  if (flash_records && constants != plan_->num_constants) return fail(Status::kBadPlan, -1, -1);
  uint64_t io_slots = 0, kernel_bytes = 0;
  for (uint32_t i = 0; i < nn; ++i) {
    tfl::OpView op;
    s = tfl::read_operator(mv, i, &op);
    if (s != Status::kOk) return fail(s, static_cast<int32_t>(i), -1);
    const Registration* reg = ops_.find(op.builtin_code, op.version);
    if (reg == nullptr) return fail(Status::kUnsupportedOp, static_cast<int32_t>(i), op.builtin_code);
    const int32_t channels = out_channels(mv, op);
    if (channels > kMaxChannels) {
      return fail(Status::kUnsupportedType, static_cast<int32_t>(i), op.builtin_code);
    }
    const ChannelQuant* cq = nullptr;
    if (!plan_channel_quant(plan_, i, channels, &cq)) {
      return fail(Status::kBadPlan, static_cast<int32_t>(i), op.builtin_code);
    }
    io_slots += op.inputs.size() + op.outputs.size();
    const PlannedOp* planned = planned_op(plan_, i);
    if (planned == nullptr && reg->prepare == nullptr) {  // an eval-only kernel needs the plan's data
      return fail(Status::kBadPlan, static_cast<int32_t>(i), op.builtin_code);
    }
    if (planned == nullptr) {
      kernel_bytes += a8(reg->params_bytes) + a8(reg->op_data_bytes(cq != nullptr ? 0 : channels));
    }
  }
  const uint64_t act = plan_ != nullptr ? plan_->activation_bytes : bump;
  const uint64_t need = a16(act) + a8(uint64_t{records} * sizeof(Tensor)) +
                        a8(uint64_t{nn} * sizeof(Node)) + a8(uint64_t{nn} * sizeof(void*)) +
                        a8(io_slots * sizeof(Tensor*)) + kernel_bytes;
  if (need > static_cast<uint64_t>(SIZE_MAX)) {
    arena_required_ = SIZE_MAX;
    return fail(Status::kArenaTooSmall, -1, -1);
  }
  // Same value as the public constant expression the generator emits.
  arena_required_ = arena_bytes(static_cast<size_t>(act), records, nn, static_cast<size_t>(io_slots),
                                static_cast<size_t>(kernel_bytes));
  if (arena_ == nullptr || (reinterpret_cast<uintptr_t>(arena_) & 15u) != 0) {
    return fail(Status::kBadArgument, -1, -1);
  }
  if (arena_size_ < arena_required_) return fail(Status::kArenaTooSmall, -1, -1);

  // Carve the tail.
  uint8_t* p = arena_ + align16(static_cast<size_t>(act));
  tensors_ = reinterpret_cast<Tensor*>(p);
  p += align_state(records * sizeof(Tensor));
  Node* const nodes = reinterpret_cast<Node*>(p);
  nodes_ = nodes;
  p += align_state(nn * sizeof(Node));
  const Registration** const regs = reinterpret_cast<const Registration**>(p);
  regs_ = regs;
  p += align_state(nn * sizeof(void*));
  Tensor** slots = reinterpret_cast<Tensor**>(p);
  p += align_state(static_cast<size_t>(io_slots) * sizeof(Tensor*));
  num_tensors_ = records;
  num_nodes_ = nn;

  // Pass 2: bind tensors (constants to the model, activations to the arena).
  size_t offset = 0;
  for (uint32_t i = 0, r = 0; i < nt; ++i) {
    // A constant with a flash record (checked in pass 1) needs no second reading.
    if (flash_records && (plan_->record_index[i] & MemoryPlan::kConstantRecord) != 0) continue;
    Tensor& t = tensors_[r++];
    s = tfl::read_tensor(mv, i, &t);
    if (s != Status::kOk) return fail(s, -1, -1);
    if (t.is_constant) continue;
    if (plan_ == nullptr) {
      t.data = arena_ + offset;
      offset += align16(t.bytes);
    } else if (plan_->offsets[i] != MemoryPlan::kNoOffset) {
      t.data = arena_ + plan_->offsets[i];
    }
  }

  // Wire nodes: io slots, params, op data; parse options.
  for (uint32_t i = 0; i < nn; ++i) {
    const int32_t op_index = static_cast<int32_t>(i);
    tfl::OpView op;
    s = tfl::read_operator(mv, i, &op);
    if (s != Status::kOk) return fail(s, op_index, -1);
    const Registration* reg = ops_.find(op.builtin_code, op.version);
    if (reg == nullptr) return fail(Status::kUnsupportedOp, op_index, op.builtin_code);
    regs[i] = reg;
    Node& n = nodes[i];
    const uint32_t nin = op.inputs.size(), nout = op.outputs.size();
    for (uint32_t k = 0; k < nin + nout; ++k) {
      int32_t idx = -1;
      if (k < nin) op.inputs.get(k, &idx);
      else op.outputs.get(k - nin, &idx);
      slots[k] = idx < 0 ? nullptr : record(idx);
      if (slots[k] != nullptr && slots[k]->data == nullptr) {
        return fail(Status::kBadPlan, op_index, op.builtin_code);  // used but unplaced
      }
      if (k >= nin && slots[k]->is_constant) return fail(Status::kBadModel, op_index, op.builtin_code);
    }
    n.inputs = slots;
    n.num_inputs = static_cast<uint8_t>(nin);
    n.num_outputs = static_cast<uint8_t>(nout);
    slots += nin + nout;
    const ChannelQuant* cq = nullptr;
    const int32_t channels = out_channels(mv, op);
    if (!plan_channel_quant(plan_, i, channels, &cq)) {
      return fail(Status::kBadPlan, op_index, op.builtin_code);
    }
    n.channel_quant = cq;
    if (const PlannedOp* planned = planned_op(plan_, i)) {
      n.params = planned->params;
      n.op_data = const_cast<void*>(planned->op_data);  // kernels' eval only reads it
      continue;
    }
    const size_t data_bytes = reg->op_data_bytes(cq != nullptr ? 0 : channels);
    n.params = reg->params_bytes != 0 ? p : nullptr;
    p += align_state(reg->params_bytes);
    n.op_data = data_bytes != 0 ? p : nullptr;
    p += align_state(data_bytes);
    s = reg->parse(op.options, const_cast<void*>(n.params));
    if (s != Status::kOk) return fail(s, op_index, op.builtin_code);
  }

  // Graph inputs and outputs must have memory.
  input_ids_ = reinterpret_cast<const int32_t*>(mv.inputs.data());
  output_ids_ = reinterpret_cast<const int32_t*>(mv.outputs.data());
  for (uint32_t i = 0; i < mv.inputs.size() + mv.outputs.size(); ++i) {
    const int32_t idx = i < mv.inputs.size() ? input_ids_[i] : output_ids_[i - mv.inputs.size()];
    if (record(idx)->is_constant) return fail(Status::kBadModel, -1, -1);  // lives in flash
    if (record(idx)->data == nullptr) return fail(Status::kBadPlan, -1, -1);
  }
  for (uint32_t i = 0; i < nt; ++i) {
    if (!tfl::tensor_is_variable(mv, i)) continue;
    Tensor* t = record(static_cast<int32_t>(i));
    if (!t->is_constant) t->rank |= kWritten;  // constants are readable anyway
  }
  const int64_t order = dataflow_check(tensors_, num_tensors_, plan_, nodes, nn, input_ids_,
                                       mv.inputs.size(), output_ids_, mv.outputs.size());
  if (order != kOrderOk) {
    const int32_t op = order >= 0 ? static_cast<int32_t>(order) : -1;
    return fail(Status::kBadModel, op, op >= 0 ? regs_[op]->builtin_code : -1);
  }

  for (uint32_t i = 0; i < nn; ++i) {
    if (planned_op(plan_, i) != nullptr) {
#if MF_VERIFY_PLAN
      tfl::OpView op;
      s = tfl::read_operator(mv, i, &op);
      if (s == Status::kOk && regs_[i]->prepare != nullptr) {
        s = verify_planned(*regs_[i], op.options, nodes_[i], out_channels(mv, op));
      }
      if (s != Status::kOk) return fail(s, static_cast<int32_t>(i), regs_[i]->builtin_code);
#endif
      continue;
    }
    s = regs_[i]->prepare(nodes[i]);
    if (s != Status::kOk) return fail(s, static_cast<int32_t>(i), regs_[i]->builtin_code);
  }
  num_inputs_ = mv.inputs.size();
  num_outputs_ = mv.outputs.size();
  arena_used_ = static_cast<size_t>(p - arena_);
  ready_ = true;
  return Status::kOk;
}
#endif  // MF_READS_MODEL

#ifdef MF_PROFILE_OPS
namespace profile {
namespace {

OpCount g_ops[kMaxOps];
size_t g_num_ops = 0;
uint32_t g_invokes = 0;

// Called by invoke() only. A delta covers the kernel's eval call and part of the two counter
// reads around it; the loop itself stays outside (interpreter overhead).
void record(size_t i, int32_t builtin_code, uint64_t delta) {
  if (i >= kMaxOps) return;
  for (; g_num_ops <= i; ++g_num_ops) g_ops[g_num_ops] = OpCount{-1, 0};
  g_ops[i].builtin_code = builtin_code;
  g_ops[i].count += delta;
}

}  // namespace

size_t num_ops() { return g_num_ops; }
const OpCount& op(size_t i) { return g_ops[i < kMaxOps ? i : 0]; }
uint32_t invokes() { return g_invokes; }

void reset() {
  g_num_ops = 0;
  g_invokes = 0;
}

}  // namespace profile

#endif  // MF_PROFILE_OPS

Status Interpreter::invoke() {
  if (!ready_) return fail(Status::kBadArgument, -1, -1);
  for (size_t i = 0; i < num_nodes_; ++i) {
#ifdef MF_PROFILE_OPS
    const uint64_t c0 = port::cycle_count();
#endif
    const Status s = regs_[i]->eval(nodes_[i]);
#ifdef MF_PROFILE_OPS
    profile::record(i, regs_[i]->builtin_code, port::cycle_count() - c0);
#endif
    if (s != Status::kOk) return fail(s, static_cast<int32_t>(i), regs_[i]->builtin_code);
  }
#ifdef MF_PROFILE_OPS
  ++profile::g_invokes;
#endif
  return Status::kOk;
}

size_t Interpreter::num_inputs() const { return num_inputs_; }
size_t Interpreter::num_outputs() const { return num_outputs_; }

Tensor* Interpreter::record(int32_t tensor_index) {
  // A full plan's records are in flash and never written through (kernels write ->data only).
  if (full_) return const_cast<Tensor*>(&plan_->full->records[tensor_index]);
  return record_of(tensors_, plan_, tensor_index);
}

Tensor* Interpreter::input(size_t i) {
  return i < num_inputs_ ? record(input_ids_[i]) : nullptr;
}

Tensor* Interpreter::output(size_t i) {
  return i < num_outputs_ ? record(output_ids_[i]) : nullptr;
}

}  // namespace mf
