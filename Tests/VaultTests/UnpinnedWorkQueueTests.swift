import CLinuxShims
import Foundation
import Synchronization
import Testing
@testable import Vault

/// Work on an UnpinnedWorkQueue runs with the process's CPU affinity even when it was queued
/// from a thread pinned to one CPU, as the FUSE ring workers are: libdispatch workers started
/// from such a thread inherit its pin.
@Suite struct UnpinnedWorkQueueTests {
    @Test func aPinnedThreadTakesBackTheProcessAffinityOnce() throws {
        let process = try allowedCPUs("/proc/self/status")
        try #require(process.count >= 2, "needs two CPUs to pin a thread to fewer than the process has")
        let seen = runOnPinnedThread(cpu: process[0]) { () -> [[Int]] in
            let pinned = (try? allowedCPUs("/proc/thread-self/status")) ?? []
            #expect(shardvault_unpin_thread_once() == 0)
            return [pinned, (try? allowedCPUs("/proc/thread-self/status")) ?? []]
        }
        #expect(seen[0] == [process[0]], "the thread was pinned")
        #expect(seen[1] == process, "and runs on every CPU of the process afterwards")
    }

    @Test func workQueuedFromAPinnedThreadRunsUnpinned() throws {
        let process = try allowedCPUs("/proc/self/status")
        try #require(process.count >= 2, "needs two CPUs to pin a thread to fewer than the process has")
        // A QoS nothing else in the test process uses: its worker threads do not exist yet.
        let queue = UnpinnedWorkQueue(label: "test.unpinned", qos: .background)
        let seen = Mutex<[[Int]]>([])
        let group = DispatchGroup()
        runOnPinnedThread(cpu: process[0]) {
            // Blocking items make libdispatch start more workers, from this pinned thread.
            for _ in 0 ..< 8 {
                group.enter()
                queue.async {
                    let allowed = (try? allowedCPUs("/proc/thread-self/status")) ?? []
                    seen.withLock { $0.append(allowed) }
                    usleep(20_000)
                    group.leave()
                }
            }
        }
        group.wait()
        #expect(seen.withLock { $0 }.count == 8)
        #expect(seen.withLock { $0 }.allSatisfy { $0 == process }, "\(seen.withLock { $0 })")
    }

    /// Runs `body` on a new thread pinned to `cpu` and returns its result.
    private func runOnPinnedThread<Result: Sendable>(cpu: Int, _ body: @escaping @Sendable () -> Result) -> Result {
        let result = Mutex<Result?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            #expect(shardvault_pin_thread_to_cpu(Int32(cpu)) == 0)
            result.withLock { $0 = body() }
            done.signal()
        }
        thread.start()
        done.wait()
        return result.withLock { $0! }
    }

    /// The CPUs in a /proc status file's Cpus_allowed_list ("0-1", "0,2-3").
    private func allowedCPUs(_ statusPath: String) throws -> [Int] {
        let status = try String(contentsOfFile: statusPath, encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        return line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
            .split(separator: ",").flatMap { part -> [Int] in
                let bounds = part.split(separator: "-").compactMap { Int($0) }
                return bounds.count == 2 ? Array(bounds[0] ... bounds[1]) : bounds
            }
    }
}
