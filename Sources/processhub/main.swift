import NIOCore
import NIOPosix

// Swift's global executor becomes NIO's event loops before any task runs: a task awaiting a
// remote reply then resumes on the thread that read it, with no extra thread wake-up.
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await ProcessHubCLI.runFromCommandLine()
