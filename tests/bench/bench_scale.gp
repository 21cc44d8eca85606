# bench_scale.gp: the chart of make bench-scale (gnuplot -e "dir='DIR'").
# Left: tasks/s and scheduler CPU per task against fleet size; right: the
# same against DAG size. Reads DIR/bench-scale-fleet.dat and
# DIR/bench-scale-growth.dat (columns: x, tasks/s, cpu us/task).
set terminal svg size 1000,420 dynamic font "sans,11"
set output dir.'/bench-scale.svg'
set multiplot layout 1,2 title "sluice make bench-scale (store\\_sync full)"
set logscale x
set grid
set key bottom left opaque box
set ytics nomirror
set y2tics
set ylabel "tasks/s"
set y2label "scheduler CPU per task (us)"
set yrange [0:*]
set y2range [0:*]
set xlabel "simulated workers (x 4 slots)"
set title "against fleet size"
plot dir.'/bench-scale-fleet.dat' using 1:2 with linespoints lw 2 pt 7 title "tasks/s", \
     '' using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title "CPU us/task"
set xlabel "tasks in the DAG"
set title "against DAG size"
plot dir.'/bench-scale-growth.dat' using 1:2 with linespoints lw 2 pt 7 title "tasks/s", \
     '' using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title "CPU us/task"
unset multiplot
