using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Herald.Benchmarks -- --filter '*FanOut*'
BenchmarkSwitcher.FromAssembly(typeof(Herald.Benchmarks.FanOutBenchmarks).Assembly).Run(args);
