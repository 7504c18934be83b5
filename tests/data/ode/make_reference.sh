#!/bin/sh
# Reference trajectories of the published .ode files in this folder, computed by XPPAUT itself
# (Debian package xppaut 6.11b+1.dfsg-1.1: `apt-get install -y xppaut`). XPPAUT writes the run
# to output.dat (columns t, the states in order, the aux quantities) in float precision (8
# significant digits). Where a run needs other settings than the file's (a fixed-step method
# instead of gear/cvode, a current that makes the neuron fire, a shorter run), a copy of the
# file with only those option/parameter lines changed by sed is run; tests/test_ode.py passes
# the same settings to hh.trajectory on the *original* file.
# Run from this folder: sh make_reference.sh
set -e
tmp=$(mktemp -d)
run() {  # run NAME.ode OUT.dat [sed expression]
    if [ -n "$3" ]; then sed -e "$3" "$1" > "$tmp/$1"; else cp "$1" "$tmp/$1"; fi
    (cd "$tmp" && rm -f ./*.dat && xppaut "$1" -silent > log.txt 2>&1) || { cat "$tmp/log.txt"; exit 1; }
    cp "$tmp/output.dat" "$2" 2>/dev/null || true
}
run hh.ode hh.xpp.dat                                     # RK4 (default), dt 0.05, total 20
run hr.ode hr.xpp.dat 's/^d$/@ total=40, dt=0.05\nd/'      # RK4; 40 time units
run figs123.ode figs123.xpp.dat                           # RK4, dt 0.05, total 30, aux I_ca, I_k
# lecar.ode has named parameter sets: in silent mode XPPAUT runs each in turn (cumulatively:
# vvst = {total=100, iapp=.1}; then pp, snic, hopf = {v3=0, v4=.3, gca=1.1, phi=.2}, ...) and
# writes SETNAME.dat instead of output.dat; keep two of them.
run lecar.ode none
cp "$tmp/vvst.dat" lecar_vvst.xpp.dat
cp "$tmp/hopf.dat" lecar_hopf.xpp.dat
run fhn.ode fhn.xpp.dat 's/param al=0,omega=2/param al=0.5,omega=2/'  # forced: s(t) = 0.5 sin(2t)
run fhn.ode fhn_euler.xpp.dat 's/param al=0,omega=2/param al=0.5,omega=2/; s/@ total=100,dt=.2/@ total=100,dt=.2,meth=euler/'
run hhred.ode hhred.xpp.dat 's/method=gear/method=modeuler/; s/dt=.25/dt=.01,nout=5/; s/par I0=20  IP=0  PON=0  POFF=0/par I0=0  IP=20  PON=5  POFF=25/'  # Heun, dt .01 (with .05 its upstroke is numerically unstable), rows every 5 steps; a pulse heav(t-pon)
# ck.ode: XPPAUT 6.11 starts v at 0, not at v(0) = -54.774 (it misreads this negative x(0)= line;
# the first row of its output shows it); tests/test_ode.py starts from that first row.
run ck.ode ck.xpp.dat 's/meth=cvode, toler=1e-6, atoler=1e-6/meth=runge/; s/total=20000, bounds=100000, dt=1/total=500, bounds=100000, dt=0.05, nout=20/'
rm -rf "$tmp"
