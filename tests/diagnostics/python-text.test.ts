import { describe, expect, it } from "vitest";
import {
  firstUnprintable,
  pythonRepr,
  pythonStr,
  pythonType,
  unprintableMessage,
} from "../../src/diagnostics/python-text.js";

describe("Python's wording of values", () => {
  it("writes repr() as Python does", () => {
    expect(pythonRepr(["entry"])).toBe("['entry']");
    expect(pythonRepr([1, 2.5, true, null, "it's", 'say "hi"'])).toBe(
      `[1, 2.5, True, None, "it's", 'say "hi"']`,
    );
    expect(pythonRepr({ a: [1], "b\n": { c: false } })).toBe("{'a': [1], 'b\\n': {'c': False}}");
    expect(pythonRepr(1e-7)).toBe("1e-07");
  });

  it("names types and writes str() as Python does", () => {
    expect(pythonType("entry")).toBe("<class 'str'>");
    expect(pythonType(3)).toBe("<class 'int'>");
    expect(pythonType(3.5)).toBe("<class 'float'>");
    expect(pythonType(true)).toBe("<class 'bool'>");
    expect(pythonType(null)).toBe("<class 'NoneType'>");
    expect(pythonStr("entry")).toBe("entry");
    expect(pythonStr(false)).toBe("False");
  });

  it("finds the first character PyYAML refuses, and words it as PyYAML does", () => {
    expect(firstUnprintable("ok: yes\n\ttab\r\n")).toBeUndefined();
    expect(firstUnprintable("\u0000\u0000")).toEqual({ code: 0, position: 0 });
    expect(firstUnprintable("é😀\u0007")).toEqual({ code: 7, position: 2 });
    expect(unprintableMessage({ code: 0, position: 0 })).toBe(
      'unacceptable character #x0000: special characters are not allowed\n  in "<unicode string>", position 0',
    );
  });
});
