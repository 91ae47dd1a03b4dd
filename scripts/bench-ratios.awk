# Reads `go test -bench` output with benchmarks named .../<case>/gpu and .../<case>/cpu (or
# <Case>GPU and <Case>CPU) and
# prints, per case, the GPU/CPU time ratio of the same run (above 1: the GPU path is slower).
{ print }
$1 ~ /^Benchmark/ && $3 ~ /^[0-9]+$/ {
	name = $1
	sub(/-[0-9]+$/, "", name)          # drop the GOMAXPROCS suffix
	n = split(name, part, "/")
	side = part[n]
	if (side == "gpu" || side == "cpu") {
		key = substr(name, 1, length(name) - length(side) - 1)
	} else if (name ~ /(GPU|CPU)$/) {       # BenchmarkPercentilesGPU / …CPU
		side = tolower(substr(name, length(name) - 2))
		key = substr(name, 1, length(name) - 3)
	} else next
	t[key, side] = $3
	if (!(key in seen)) { seen[key] = 1; order[++k] = key }
}
END {
	if (k == 0) exit
	print "\nGPU/CPU time ratios (same run):"
	for (i = 1; i <= k; i++) {
		key = order[i]
		if (t[key, "gpu"] != "" && t[key, "cpu"] != "")
			printf "  %-45s %6.2f\n", key, t[key, "gpu"] / t[key, "cpu"]
	}
}
