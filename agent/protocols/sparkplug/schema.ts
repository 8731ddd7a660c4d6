import { parse, type Type } from 'protobufjs';

/**
 * The Sparkplug B payload (namespace `spBv1.0`) as a protobuf schema, written
 * from the Sparkplug 3.0 specification (section "Payloads", message
 * `org.eclipse.tahu.protobuf.Payload`). proto2: every field is optional, and
 * a value is one member of a `oneof` chosen by the metric's data type.
 *
 * Parsed once, on first use, with protobufjs; the agent decodes payloads with
 * it and encodes only its own commands (NCMD `Node Control/Rebirth`).
 *
 * The specification puts each value field in a `oneof value`. On the wire a
 * oneof is nothing but its optional fields, so they are declared here as plain
 * optional fields: the bytes are the same, and protobufjs then does not clear
 * the other members of the oneof for every value it reads (that took most of
 * the decoding time). The value's field is found by valueField() in decode.ts.
 */
export const SPARKPLUG_B_PROTO = `
syntax = "proto2";
package org.eclipse.tahu.protobuf;

message Payload {
  message Template {
    message Parameter {
      optional string name = 1;
      optional uint32 type = 2;
      // value (a oneof in the specification; see above)
      optional uint32 int_value = 3;
      optional uint64 long_value = 4;
      optional float float_value = 5;
      optional double double_value = 6;
      optional bool boolean_value = 7;
      optional string string_value = 8;
      optional ParameterValueExtension extension_value = 9;
      message ParameterValueExtension {
        extensions 1 to max;
      }
    }
    optional string version = 1;
    repeated Metric metrics = 2;
    repeated Parameter parameters = 3;
    optional string template_ref = 4;
    optional bool is_definition = 5;
    extensions 6 to max;
  }

  message DataSet {
    message DataSetValue {
      // value (a oneof in the specification; see above)
      optional uint32 int_value = 1;
      optional uint64 long_value = 2;
      optional float float_value = 3;
      optional double double_value = 4;
      optional bool boolean_value = 5;
      optional string string_value = 6;
      optional DataSetValueExtension extension_value = 7;
      message DataSetValueExtension {
        extensions 1 to max;
      }
    }
    message Row {
      repeated DataSetValue elements = 1;
      extensions 2 to max;
    }
    optional uint64 num_of_columns = 1;
    repeated string columns = 2;
    repeated uint32 types = 3;
    repeated Row rows = 4;
    extensions 5 to max;
  }

  message PropertyValue {
    optional uint32 type = 1;
    optional bool is_null = 2;
    // value (a oneof in the specification; see above)
    optional uint32 int_value = 3;
    optional uint64 long_value = 4;
    optional float float_value = 5;
    optional double double_value = 6;
    optional bool boolean_value = 7;
    optional string string_value = 8;
    optional PropertySet propertyset_value = 9;
    optional PropertySetList propertysets_value = 10;
    optional PropertyValueExtension extension_value = 11;
    message PropertyValueExtension {
      extensions 1 to max;
    }
  }

  message PropertySet {
    repeated string keys = 1;
    repeated PropertyValue values = 2;
    extensions 3 to max;
  }

  message PropertySetList {
    repeated PropertySet propertyset = 1;
    extensions 2 to max;
  }

  message MetaData {
    optional bool is_multi_part = 1;
    optional string content_type = 2;
    optional uint64 size = 3;
    optional uint64 seq = 4;
    optional string file_name = 5;
    optional string file_type = 6;
    optional string md5 = 7;
    optional string description = 8;
    extensions 9 to max;
  }

  message Metric {
    optional string name = 1;
    optional uint64 alias = 2;
    optional uint64 timestamp = 3;
    optional uint32 datatype = 4;
    optional bool is_historical = 5;
    optional bool is_transient = 6;
    optional bool is_null = 7;
    optional MetaData metadata = 8;
    optional PropertySet properties = 9;
    // value (a oneof in the specification; see above)
    optional uint32 int_value = 10;
    optional uint64 long_value = 11;
    optional float float_value = 12;
    optional double double_value = 13;
    optional bool boolean_value = 14;
    optional string string_value = 15;
    optional bytes bytes_value = 16;
    optional DataSet dataset_value = 17;
    optional Template template_value = 18;
    optional MetricValueExtension extension_value = 19;
    message MetricValueExtension {
      extensions 1 to max;
    }
  }

  optional uint64 timestamp = 1;
  repeated Metric metrics = 2;
  optional uint64 seq = 3;
  optional string uuid = 4;
  optional bytes body = 5;
  extensions 6 to max;
}
`;

/** Sparkplug B data types (the `datatype` of a metric, the `type` of a property or parameter, the `types` of a data set). */
export const DATA_TYPES = [
  'Unknown',
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
  'Boolean',
  'String',
  'DateTime',
  'Text',
  'UUID',
  'DataSet',
  'Bytes',
  'File',
  'Template',
  'PropertySet',
  'PropertySetList',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Int64Array',
  'UInt8Array',
  'UInt16Array',
  'UInt32Array',
  'UInt64Array',
  'FloatArray',
  'DoubleArray',
  'BooleanArray',
  'StringArray',
  'DateTimeArray',
] as const;

export type DataTypeName = (typeof DATA_TYPES)[number];

/** The name of a data type code, or undefined for a code the specification does not define. */
export function dataTypeName(code: number): DataTypeName | undefined {
  return Number.isInteger(code) && code >= 0 && code < DATA_TYPES.length ? DATA_TYPES[code] : undefined;
}

export const DataType = Object.fromEntries(DATA_TYPES.map((n, i) => [n, i])) as Record<DataTypeName, number>;

let payloadType: Type | undefined;

/** The `Payload` message type (the schema is parsed on first use). */
export function payloadMessage(): Type {
  payloadType ??= parse(SPARKPLUG_B_PROTO, { keepCase: false }).root.lookupType('org.eclipse.tahu.protobuf.Payload');
  return payloadType;
}
