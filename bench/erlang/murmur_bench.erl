%% Distributed Erlang peer figures for Murmur's bench (`bench/src/suites/peers.ts` compiles and runs
%% this). Two nodes on 127.0.0.1: `rx` counts and echoes, `tx` drives rounds and prints one line per
%% measured figure: "RESULT <name> <value> <tx cpu %> <rx cpu %>". 64-byte binaries as payloads.
-module(murmur_bench).
-export([rx/0, tx/1]).

-define(PAYLOAD, <<0:512>>).

%% The receiving node's registered process.
rx() ->
    register(rx, self()),
    rx_loop().

rx_loop() ->
    receive
        {count, From} -> count(From, 0, undefined), rx_loop();
        {ping, From, B} -> From ! {pong, B}, rx_loop();
        {runtime, From} -> From ! {runtime, runtime_ms()}, rx_loop();
        stop -> ok
    end.

%% Counts {m, _} until done; replies with the count and the ns from the first to the done.
count(From, N, T0) ->
    receive
        {m, _} when N =:= 0 -> count(From, 1, now_ns());
        {m, _} -> count(From, N + 1, T0);
        done -> From ! {counted, N, now_ns() - T0}
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

%% CPU ms (user + system) of this OS process, from /proc on Linux (100 ticks per second);
%% elsewhere statistics(runtime), which counts user time only.
runtime_ms() ->
    case file:read_file("/proc/self/stat") of
        {ok, Stat} ->
            [_, Rest] = binary:split(Stat, <<") ">>),
            Fields = binary:split(Rest, <<" ">>, [global]),
            10 * (binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)));
        _ ->
            {Total, _} = erlang:statistics(runtime),
            Total
    end.

%% [RxNode, Rounds, Warmup, RoundMs, RttSamples, Window, Tests]; Tests: a list of send, rtt, inflight.
tx([Rx, Rounds, Warmup, Ms, Samples, Window, Tests]) ->
    ok = connect(Rx, 200),
    Dest = rpc:call(Rx, erlang, whereis, [rx]),
    lists:foreach(
        fun(I) ->
            Measured = I > Warmup,
            [round(Measured, Dest, fun() -> send(Dest, Ms) end) || lists:member(send, Tests)],
            [round(Measured, Dest, fun() -> rtt(Dest, Samples, Ms) end) || lists:member(rtt, Tests)],
            [round(Measured, Dest, fun() -> inflight(Dest, Window, Ms) end) || lists:member(inflight, Tests)]
        end,
        lists:seq(1, Warmup + Rounds)),
    Dest ! stop,
    io:format("DONE~n").

connect(_, 0) -> {error, not_connected};
connect(Rx, N) ->
    case net_kernel:connect_node(Rx) andalso is_pid(rpc:call(Rx, erlang, whereis, [rx])) of
        true -> ok;
        false -> timer:sleep(100), connect(Rx, N - 1)
    end.

%% Runs F, measuring both nodes' CPU; F returns [{Name, Value}].
round(Measured, Dest, F) ->
    RxCpu0 = remote_runtime(Dest), TxCpu0 = runtime_ms(), T0 = now_ns(),
    Values = F(),
    WallMs = (now_ns() - T0) / 1.0e6,
    TxCpu = 100 * (runtime_ms() - TxCpu0) / WallMs,
    RxCpu = 100 * (remote_runtime(Dest) - RxCpu0) / WallMs,
    case Measured of
        true -> [io:format("RESULT ~s ~.3f ~.1f ~.1f~n", [Name, float(V), float(TxCpu), float(RxCpu)]) || {Name, V} <- Values];
        false -> ok
    end.

remote_runtime(Dest) ->
    Dest ! {runtime, self()},
    receive {runtime, R} -> R after 10000 -> error(rx_timeout) end.

%% One-way: send for Ms, counted at rx.
send(Dest, Ms) ->
    Dest ! {count, self()},
    End = now_ns() + Ms * 1000000,
    send_loop(Dest, End),
    Dest ! done,
    receive {counted, N, Ns} -> [{"peer.erlang.send", N / (Ns / 1.0e9)}] after 60000 -> error(count_timeout) end.

send_loop(Dest, End) ->
    send_n(Dest, 1000),
    case now_ns() < End of
        true -> send_loop(Dest, End);
        false -> ok
    end.

send_n(_, 0) -> ok;
send_n(Dest, K) -> Dest ! {m, ?PAYLOAD}, send_n(Dest, K - 1).

%% One in flight: p50 and p99 in µs.
rtt(Dest, Samples, Ms) ->
    End = now_ns() + max(Ms, 1000) * 1000000,
    Ts = lists:sort(rtt_loop(Dest, Samples, End, [])),
    N = length(Ts),
    P = fun(Q) -> lists:nth(max(1, min(N, ceil(Q * N))), Ts) / 1000 end,
    [{"peer.erlang.rtt-p50", P(0.5)}, {"peer.erlang.rtt-p99", P(0.99)}].

rtt_loop(_, 0, _, Acc) -> Acc;
rtt_loop(Dest, K, End, Acc) ->
    T0 = now_ns(),
    Dest ! {ping, self(), ?PAYLOAD},
    receive {pong, _} -> ok end,
    T = now_ns(),
    case T < End orelse K rem 256 =/= 0 of
        true -> rtt_loop(Dest, K - 1, End, [T - T0 | Acc]);
        false -> [T - T0 | Acc]
    end.

%% Window round trips in flight for Ms: round trips per second.
inflight(Dest, Window, Ms) ->
    T0 = now_ns(),
    End = T0 + Ms * 1000000,
    Self = self(),
    [Dest ! {ping, Self, ?PAYLOAD} || _ <- lists:seq(1, Window)],
    Done = inflight_loop(Dest, End, Window, 0),
    [{"peer.erlang.inflight", Done / ((now_ns() - T0) / 1.0e9)}].

inflight_loop(_, _, 0, Done) -> Done;
inflight_loop(Dest, End, Outstanding, Done) ->
    receive {pong, _} -> ok end,
    case now_ns() < End of
        true -> Dest ! {ping, self(), ?PAYLOAD}, inflight_loop(Dest, End, Outstanding, Done + 1);
        false -> inflight_loop(Dest, End, Outstanding - 1, Done + 1)
    end.
