/**
 * @effect-kinesis/cli: the `kinesis-writer` command line, and the modules it is made of.
 */
export * as Cli from "./Cli.js"
export * as Get from "./Get.js"
export * as Help from "./Help.js"
export * as Input from "./Input.js"
export * as Lines from "./Lines.js"
export * as Local from "./Local.js"
export * as Outcome from "./Outcome.js"
export * as Output from "./Output.js"
export * as Progress from "./Progress.js"
export * as Put from "./Put.js"
export * as Status from "./Status.js"
export * as Units from "./Units.js"
