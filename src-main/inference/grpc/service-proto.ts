/**
 * The Open Inference Protocol's gRPC service as this server speaks it, written here from the
 * protocol's published message and field definitions (KServe's v2 protocol and Triton's
 * extensions of it): the package, service, message names and field numbers are the
 * protocol's, so that tritonclient.grpc and perf_analyzer talk to it unchanged. Kept as text
 * in a module, parsed by protobufjs at start, so that the bundle carries it without a file
 * to copy beside it. Only what the server implements is declared: a client calling an RPC
 * not listed gets UNIMPLEMENTED from grpc-js, as the protocol allows.
 */
export const SERVICE_NAME = 'inference.GRPCInferenceService';

export const SERVICE_PROTO = `
syntax = "proto3";
package inference;

message ServerLiveRequest {}
message ServerLiveResponse { bool live = 1; }
message ServerReadyRequest {}
message ServerReadyResponse { bool ready = 1; }
message ModelReadyRequest { string name = 1; string version = 2; }
message ModelReadyResponse { bool ready = 1; }
message ServerMetadataRequest {}
message ServerMetadataResponse { string name = 1; string version = 2; repeated string extensions = 3; }
message ModelMetadataRequest { string name = 1; string version = 2; }
message ModelMetadataResponse {
  message TensorMetadata { string name = 1; string datatype = 2; repeated int64 shape = 3; }
  string name = 1;
  repeated string versions = 2;
  string platform = 3;
  repeated TensorMetadata inputs = 4;
  repeated TensorMetadata outputs = 5;
}

message InferParameter {
  oneof parameter_choice {
    bool bool_param = 1;
    int64 int64_param = 2;
    string string_param = 3;
    double double_param = 4;
    uint64 uint64_param = 5;
  }
}
message InferTensorContents {
  repeated bool bool_contents = 1;
  repeated int32 int_contents = 2;
  repeated int64 int64_contents = 3;
  repeated uint32 uint_contents = 4;
  repeated uint64 uint64_contents = 5;
  repeated float fp32_contents = 6;
  repeated double fp64_contents = 7;
  repeated bytes bytes_contents = 8;
}
message ModelInferRequest {
  message InferInputTensor {
    string name = 1;
    string datatype = 2;
    repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4;
    InferTensorContents contents = 5;
  }
  message InferRequestedOutputTensor {
    string name = 1;
    map<string, InferParameter> parameters = 2;
  }
  string model_name = 1;
  string model_version = 2;
  string id = 3;
  map<string, InferParameter> parameters = 4;
  repeated InferInputTensor inputs = 5;
  repeated InferRequestedOutputTensor outputs = 6;
  repeated bytes raw_input_contents = 7;
}
message ModelInferResponse {
  message InferOutputTensor {
    string name = 1;
    string datatype = 2;
    repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4;
    InferTensorContents contents = 5;
  }
  string model_name = 1;
  string model_version = 2;
  string id = 3;
  map<string, InferParameter> parameters = 4;
  repeated InferOutputTensor outputs = 5;
  repeated bytes raw_output_contents = 6;
}
message ModelStreamInferResponse { string error_message = 1; ModelInferResponse infer_response = 2; }

// Triton's model configuration, only the fields this server fills (model_config.proto's numbers).
enum DataType {
  TYPE_INVALID = 0; TYPE_BOOL = 1; TYPE_UINT8 = 2; TYPE_UINT16 = 3; TYPE_UINT32 = 4; TYPE_UINT64 = 5; TYPE_INT8 = 6;
  TYPE_INT16 = 7; TYPE_INT32 = 8; TYPE_INT64 = 9; TYPE_FP16 = 10; TYPE_FP32 = 11; TYPE_FP64 = 12; TYPE_STRING = 13; TYPE_BF16 = 14;
}
message ModelInput { string name = 1; DataType data_type = 2; repeated int64 dims = 4; }
message ModelOutput { string name = 1; DataType data_type = 2; repeated int64 dims = 3; }
message ModelQueuePolicy {
  enum TimeoutAction { REJECT = 0; DELAY = 1; }
  TimeoutAction timeout_action = 1;
  uint64 default_timeout_microseconds = 2;
  uint32 max_queue_size = 4;
}
message ModelDynamicBatching {
  repeated int32 preferred_batch_size = 1;
  uint64 max_queue_delay_microseconds = 2;
  ModelQueuePolicy default_queue_policy = 6;
}
message ModelInstanceGroup {
  enum Kind { KIND_AUTO = 0; KIND_GPU = 1; KIND_CPU = 2; KIND_MODEL = 3; }
  string name = 1;
  int32 count = 2;
  Kind kind = 4;
}
message ModelParameter { string string_value = 1; }
message ModelConfig {
  string name = 1;
  string platform = 2;
  int32 max_batch_size = 4;
  repeated ModelInput input = 5;
  repeated ModelOutput output = 6;
  repeated ModelInstanceGroup instance_group = 7;
  ModelDynamicBatching dynamic_batching = 11;
  map<string, ModelParameter> parameters = 14;
  string backend = 17;
}
message ModelConfigRequest { string name = 1; string version = 2; }
message ModelConfigResponse { ModelConfig config = 1; }

message ModelStatisticsRequest { string name = 1; string version = 2; }
message StatisticDuration { uint64 count = 1; uint64 ns = 2; }
message InferStatistics {
  StatisticDuration success = 1;
  StatisticDuration fail = 2;
  StatisticDuration queue = 3;
  StatisticDuration compute_input = 4;
  StatisticDuration compute_infer = 5;
  StatisticDuration compute_output = 6;
  StatisticDuration cache_hit = 7;
  StatisticDuration cache_miss = 8;
}
message InferBatchStatistics {
  uint64 batch_size = 1;
  StatisticDuration compute_input = 2;
  StatisticDuration compute_infer = 3;
  StatisticDuration compute_output = 4;
}
message ModelStatistics {
  string name = 1;
  string version = 2;
  uint64 last_inference = 3;
  uint64 inference_count = 4;
  uint64 execution_count = 5;
  InferStatistics inference_stats = 6;
  repeated InferBatchStatistics batch_stats = 7;
}
message ModelStatisticsResponse { repeated ModelStatistics model_stats = 1; }

message ModelRepositoryParameter {
  oneof parameter_choice { bool bool_param = 1; int64 int64_param = 2; string string_param = 3; bytes bytes_param = 4; }
}
message RepositoryIndexRequest { string repository_name = 1; bool ready = 2; }
message RepositoryIndexResponse {
  message ModelIndex { string name = 1; string version = 2; string state = 3; string reason = 4; }
  repeated ModelIndex models = 1;
}
message RepositoryModelLoadRequest { string repository_name = 1; string model_name = 2; map<string, ModelRepositoryParameter> parameters = 3; }
message RepositoryModelLoadResponse {}
message RepositoryModelUnloadRequest { string repository_name = 1; string model_name = 2; map<string, ModelRepositoryParameter> parameters = 3; }
message RepositoryModelUnloadResponse {}

// Triton's system shared-memory extension.
message SystemSharedMemoryStatusRequest { string name = 1; }
message SystemSharedMemoryStatusResponse {
  message RegionStatus { string name = 1; string key = 2; uint64 offset = 3; uint64 byte_size = 4; }
  map<string, RegionStatus> regions = 1;
}
message SystemSharedMemoryRegisterRequest { string name = 1; string key = 2; uint64 offset = 3; uint64 byte_size = 4; }
message SystemSharedMemoryRegisterResponse {}
message SystemSharedMemoryUnregisterRequest { string name = 1; }
message SystemSharedMemoryUnregisterResponse {}
`;

/** Each RPC served: its request and response message, and whether the client streams (ModelStreamInfer streams both ways). */
export const RPCS = {
  ServerLive: { request: 'ServerLiveRequest', response: 'ServerLiveResponse', stream: false },
  ServerReady: { request: 'ServerReadyRequest', response: 'ServerReadyResponse', stream: false },
  ModelReady: { request: 'ModelReadyRequest', response: 'ModelReadyResponse', stream: false },
  ServerMetadata: { request: 'ServerMetadataRequest', response: 'ServerMetadataResponse', stream: false },
  ModelMetadata: { request: 'ModelMetadataRequest', response: 'ModelMetadataResponse', stream: false },
  ModelInfer: { request: 'ModelInferRequest', response: 'ModelInferResponse', stream: false },
  ModelStreamInfer: { request: 'ModelInferRequest', response: 'ModelStreamInferResponse', stream: true },
  ModelConfig: { request: 'ModelConfigRequest', response: 'ModelConfigResponse', stream: false },
  ModelStatistics: { request: 'ModelStatisticsRequest', response: 'ModelStatisticsResponse', stream: false },
  RepositoryIndex: { request: 'RepositoryIndexRequest', response: 'RepositoryIndexResponse', stream: false },
  RepositoryModelLoad: { request: 'RepositoryModelLoadRequest', response: 'RepositoryModelLoadResponse', stream: false },
  RepositoryModelUnload: { request: 'RepositoryModelUnloadRequest', response: 'RepositoryModelUnloadResponse', stream: false },
  SystemSharedMemoryStatus: { request: 'SystemSharedMemoryStatusRequest', response: 'SystemSharedMemoryStatusResponse', stream: false },
  SystemSharedMemoryRegister: {
    request: 'SystemSharedMemoryRegisterRequest',
    response: 'SystemSharedMemoryRegisterResponse',
    stream: false,
  },
  SystemSharedMemoryUnregister: {
    request: 'SystemSharedMemoryUnregisterRequest',
    response: 'SystemSharedMemoryUnregisterResponse',
    stream: false,
  },
} as const;

export type RpcName = keyof typeof RPCS;
