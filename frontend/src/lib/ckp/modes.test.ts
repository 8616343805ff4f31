import { describe, expect, it } from "vitest";
import { procedureDefaultMode, testDataCount } from "./modes";

describe("run modes of a procedure", () => {
  it("defaults as the server does", () => {
    expect(procedureDefaultMode({})).toBe("production");
    expect(procedureDefaultMode(null)).toBe("production");
    expect(procedureDefaultMode({ global_config: { execution_mode: "production" } })).toBe("production");
    expect(procedureDefaultMode({ global_config: { execution_mode: "validation_only" } })).toBe("production");
    expect(procedureDefaultMode({ global_config: { execution_mode: "dry_run", mock_external_calls: true } })).toBe("dry_run");
    expect(procedureDefaultMode({ global_config: { mock_external_calls: true } })).toBe("test");
  });

  it("counts the procedure's test data", () => {
    expect(testDataCount({ global_config: { test_data_overrides: { "a.b": 1, c: {} } } })).toBe(2);
    expect(testDataCount({ global_config: { test_data_overrides: {} } })).toBe(0);
    expect(testDataCount({ global_config: {} })).toBe(0);
    expect(testDataCount({ global_config: { test_data_overrides: [1] } })).toBe(0);
  });
});
