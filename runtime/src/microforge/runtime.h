// microforge micro-runtime: public API.
//
// A TFLite-Micro-compatible interpreter for int8 / float32 models.
//   - reads the .tflite flatbuffer in place (bounds-checked; a corrupt model is
//     an error status, never a wild read),
//   - uses one caller-owned arena (16-byte aligned) and no heap,
//   - no exceptions, no RTTI.
//
// Typical use (the generated project does exactly this):
//
//   alignas(16) static uint8_t arena[model::kArenaSize];
//   mf::Interpreter interp(model::kData, model::kSize, model::kOps,
//                          arena, sizeof(arena), &model::kPlan);
//   if (interp.init() != mf::Status::kOk) { /* report interp.error_op() */ }
//   memcpy(interp.input(0)->data, bytes, interp.input(0)->bytes);
//   interp.invoke();
//   use(interp.output(0)->data, interp.output(0)->bytes);
//
// Lifetimes: the model bytes, the resolver, the plan and the arena must outlive
// the Interpreter. Tensor pointers stay valid until the Interpreter dies.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/tensor.h"

namespace mf {

class FbTable;  // bounds-checked flatbuffer table view (flatbuffer.h)

constexpr size_t align16(size_t n) { return (n + 15u) & ~static_cast<size_t>(15u); }
// The runtime's state after the activations (records, nodes, each operator's
// params and op data): 8-byte aligned (the widest member is a double), so a few
// bytes of padding per region instead of up to 15.
constexpr size_t align_state(size_t n) { return (n + 7u) & ~static_cast<size_t>(7u); }

enum class Status : uint8_t {
  kOk = 0,
  kBadModel,        // flatbuffer malformed / out of bounds / inconsistent
  kUnsupportedOp,   // op code or version not in the resolver
  kUnsupportedType, // tensor type or parameter the kernel does not handle
  kArenaTooSmall,   // see Interpreter::arena_required()
  kBadPlan,         // memory plan does not match the model
  kBadArgument,     // caller error (index out of range, invoke before init)
  kKernelError,     // a kernel's Prepare rejected its tensors
};

// Stable lower-case name, e.g. "arena-too-small".
const char* status_name(Status s);

// Parsed node as kernels see it: tensors and parameters, never the interpreter.
struct ChannelQuant;

struct Node {
  Tensor* const* inputs;   // [num_inputs], then the outputs; nullptr for optional (-1) inputs
  const void* params;      // kernel-specific parsed builtin options (see kernels)
  void* op_data;           // kernel-owned persistent bytes in the arena tail
  const ChannelQuant* channel_quant;  // the generator's per-channel multipliers, or nullptr
  uint8_t num_inputs;      // pointers first, counts last: no padding between them
  uint8_t num_outputs;

  Tensor* const* outputs() const { return inputs + num_inputs; }  // [num_outputs]
};

// One kernel. All checks and multiplier math go in prepare; eval does none.
// A kernel's kPlanned registration has parse, op_data_bytes and prepare null: it
// serves only nodes whose params and op data the plan carries (MemoryPlan::planned_ops).
struct Registration {
  int32_t builtin_code;    // tflite::BuiltinOperator value
  int32_t min_version;
  int32_t max_version;
  // Bytes of parsed params (copied out of the flatbuffer options table).
  size_t params_bytes;
  // Parses the builtin options table into params. options is a bounds-checked
  // view of the operator's builtin_options table (empty when absent).
  Status (*parse)(const FbTable& options, void* params);
  // Persistent op_data bytes for a node whose weights (input 1) carry
  // out_channels per-channel quantization parameters (0 when per-tensor).
  // Each kernel header also offers this as a constexpr
  // state_bytes(out_channels) = align16(params_bytes) + align16(op_data_bytes),
  // which the generator uses to size the arena exactly at build time.
  size_t (*op_data_bytes)(int32_t out_channels);
  Status (*prepare)(Node& node);
  Status (*eval)(const Node& node);
};

// The set of kernels a firmware links; generated per model.
struct OpResolver {
  const Registration* const* regs;
  size_t count;
  const Registration* find(int32_t builtin_code, int32_t version) const;
};

// Offline memory plan emitted by the generator: offset of every tensor's data
// in the arena (kNoOffset for constants and unused tensors). Two tensors may
// share an offset on purpose (generator/microforge/lower/memory_plan.py: RESHAPE-like views
// and element-wise ops writing in place over an input that dies there).
// Requantization of one operator with per-channel int8 weights, computed by the
// generator exactly as the kernel's prepare would (TFLM's QuantizeMultiplier of
// in_scale * weight_scale[c] / out_scale) and kept in flash, so the arena holds
// none of it. channels = 0: none given, the kernel computes them into the arena.
struct ChannelQuant {
  const int32_t* multipliers;  // [channels]
  const int32_t* shifts;       // [channels]
  int32_t channels;            // the weights' per-channel parameter count
  // The fast kernels' short requantization of every channel (kernels/requant.h,
  // RequantTable's quick blocks: 2 channels a block for CONV_2D, 4 for
  // DEPTHWISE_CONV_2D), or nullptr: the kernel then derives it per call.
  const int32_t* quick = nullptr;
  // CONV_2D and FULLY_CONNECTED: the filter widened for the fast kernels (microforge/lower/
  // wide_filters.py: CONV_2D channel pairs, per group of four elements the int16 pairs both
  // channels' loop reads; FULLY_CONNECTED the same for quads of rows), or nullptr. A
  // FULLY_CONNECTED with per-tensor weights has an entry with channels 0 for it alone.
  const uint32_t* wide = nullptr;
};

// One operator's parsed params and prepared op data, computed by the generator
// exactly as the kernel's parse and prepare would (generator/microforge/lower/planned_ops.py)
// and kept in flash: init() then runs neither for it and the arena holds neither.
// op_data null: not planned. Builds with -D MF_VERIFY_PLAN=1 (the host env) still
// run the kernel's own parse and prepare and refuse the plan (kBadPlan) unless
// both produce these exact bytes.
struct PlannedOp {
  const void* params;
  const void* op_data;
};

// Full plan (issues 22, 23): every operator planned, so the generator also emits, in flash, a
// record for every tensor ([MemoryPlan::num_tensors], activations pointing into `arena`), the
// wired nodes and their registrations ([num_nodes]) and the graph's input and output tensor ids.
// With one, init() reads no flatbuffer and the arena holds the activations only
// (arena_bytes(activation_bytes, 0, 0, 0, 0)); builds with -D MF_VERIFY_PLAN=1 first run the
// model reader's full init and refuse (kBadPlan) any difference. Builds with
// -D MF_MODEL_FULL_PLAN=1 (and no MF_VERIFY_PLAN) leave the model reader out.
struct FullPlan {
  const Tensor* records;
  const Node* nodes;
  const Registration* const* node_regs;
  size_t num_nodes;
  const int32_t* inputs;
  size_t num_inputs;
  const int32_t* outputs;
  size_t num_outputs;
  uint8_t* arena;  // the generator's arena, the one the records point into
};

struct MemoryPlan {
  static constexpr int32_t kNoOffset = -1;
  const int32_t* offsets;
  size_t num_tensors;
  size_t activation_bytes;   // bytes at the arena head the plan uses
  // Per operator ([num_ops], or null): channel_quant[i].channels must be 0 or
  // the weights' channel count; an operator given them needs no per-channel
  // bytes in the arena (its kernel's state_bytes(0)).
  const ChannelQuant* channel_quant = nullptr;
  size_t num_ops = 0;
  // Records of the constant tensors, built by the generator and kept in flash
  // (or null: the arena then holds a record for every tensor). record_index[i]
  // ([num_tensors]) is kConstantRecord | j for tensor i = constant_tensors[j],
  // else the index of its record in the arena; both count up in tensor order.
  // init() checks every record against the model (kBadPlan if one differs).
  static constexpr uint16_t kConstantRecord = 0x8000;
  const Tensor* constant_tensors = nullptr;
  const uint16_t* record_index = nullptr;
  size_t num_constants = 0;
  // Per operator ([num_ops], or null): see PlannedOp.
  const PlannedOp* planned_ops = nullptr;
  // Full plan or null: see FullPlan.
  const FullPlan* full = nullptr;
};

// Exact arena bytes for a model: the plan's activations at the head, then the
// runtime's own state in the tail. The generator emits this as a constant
// expression so each target's compiler applies its own struct sizes
// (num_tensors: the tensor records in the arena, i.e. all tensors less the
// plan's constant_tensors):
//   io_slots     = sum over operators of (inputs + outputs)
//   kernel_bytes = sum over operators of <kernel>::state_bytes(out_channels),
//                  with out_channels 0 where the plan gives the ChannelQuant, and
//                  nothing for an operator the plan gives a PlannedOp
constexpr size_t arena_bytes(size_t activation_bytes, size_t num_tensors, size_t num_nodes,
                             size_t io_slots, size_t kernel_bytes) {
  return align16(activation_bytes) + align_state(num_tensors * sizeof(Tensor)) +
         align_state(num_nodes * sizeof(Node)) + align_state(num_nodes * sizeof(void*)) +
         align_state(io_slots * sizeof(Tensor*)) + kernel_bytes;
}

class Interpreter {
 public:
  // arena must be 16-byte aligned. plan may be null: the runtime then places
  // every activation tensor itself (no reuse).
  // constexpr: a global interpreter is constant-initialized (no static constructor).
  constexpr Interpreter(const uint8_t* model, size_t model_size, const OpResolver& ops,
                        uint8_t* arena, size_t arena_size, const MemoryPlan* plan = nullptr)
      : model_(model), model_size_(model_size), ops_(ops), arena_(arena), arena_size_(arena_size),
        plan_(plan) {}

  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Verifies the model, binds tensors, allocates, runs every kernel's prepare.
  Status init();
  Status invoke();

  size_t num_inputs() const;
  size_t num_outputs() const;
  Tensor* input(size_t i);
  Tensor* output(size_t i);

  // Operator index that failed init/invoke, or -1.
  int32_t error_op() const { return error_op_; }
  // Builtin code of the op that was missing or failed, or -1.
  int32_t error_code() const { return error_code_; }
  // Bytes init() needed (valid after kArenaTooSmall too), and bytes in use.
  size_t arena_required() const { return arena_required_; }
  size_t arena_used() const { return arena_used_; }

 private:
  Status fail(Status s, int32_t op, int32_t code);

  const uint8_t* model_;
  size_t model_size_;
  const OpResolver& ops_;
  uint8_t* arena_;
  size_t arena_size_;
  const MemoryPlan* plan_;

  Status init_model();  // reads the flatbuffer: records, nodes and op state in the arena tail
  Status init_full();   // takes the plan's flash records and nodes (MemoryPlan::full)
  Status verify_full() const;  // MF_VERIFY_PLAN: the plan's flash state equals init_model()'s
  Tensor* record(int32_t tensor_index);  // the tensor's record, arena or flash

  Tensor* tensors_ = nullptr;      // in the arena tail
  size_t num_tensors_ = 0;         // records there
  const Node* nodes_ = nullptr;    // in the arena tail, or the plan's (flash)
  const Registration* const* regs_ = nullptr;
  bool full_ = false;              // records, nodes and io ids are the plan's
  size_t num_nodes_ = 0;
  const int32_t* input_ids_ = nullptr;   // points into the model
  size_t num_inputs_ = 0;
  const int32_t* output_ids_ = nullptr;
  size_t num_outputs_ = 0;
  bool ready_ = false;
  int32_t error_op_ = -1;
  int32_t error_code_ = -1;
  size_t arena_required_ = 0;
  size_t arena_used_ = 0;
};

#ifdef MF_PROFILE_OPS
// Per-operator profiling, compiled only with -D MF_PROFILE_OPS (the speed benchmark builds
// with it; without the flag none of this exists and invoke() is unchanged). invoke() adds
// mf::port::cycle_count() deltas around each kernel's eval to a static table indexed by
// operator: one table per program, shared by every Interpreter in it. Operators at index
// >= kMaxOps are not recorded (raise MF_PROFILE_MAX_OPS for bigger models).
namespace profile {

#ifdef MF_PROFILE_MAX_OPS
constexpr size_t kMaxOps = MF_PROFILE_MAX_OPS;
#else
constexpr size_t kMaxOps = 256;
#endif

struct OpCount {
  int32_t builtin_code;  // -1: the operator has not run since the last reset
  uint64_t count;        // counter units (see mf::port::cycle_counter_kind())
};

// Operators recorded since the last reset (highest index + 1, at most kMaxOps).
size_t num_ops();
// Operator i's accumulated count; i < num_ops().
const OpCount& op(size_t i);
// Completed invoke() calls accumulated in the table.
uint32_t invokes();
void reset();

}  // namespace profile
#endif  // MF_PROFILE_OPS

}  // namespace mf
