package main

// Snapshots as ESX reverts them: the simulator's RevertToSnapshot only moves
// the current snapshot and leaves the VM's power state as it was; ESX puts
// the VM in the state the snapshot saved (powered on or suspended when the
// snapshot holds the memory, powered off when it does not). libvirt's esx
// driver reads the state back after a revert, so without this a revert to a
// powered-off snapshot of a running VM would leave it running.

import (
	"encoding/xml"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Whether each snapshot (by its managed object id) holds the memory, as its
// CreateSnapshot_Task asked; the simulator keeps no record of it.
var snapshotMemory = struct {
	sync.Mutex
	of map[string]bool
}{of: map[string]bool{}}

func fixSnapshots() {
	hooks["CreateSnapshot_Task"] = hook{after: rememberSnapshotMemory}
	hooks["RevertToSnapshot_Task"] = hook{after: applySnapshotPowerState}
}

func rememberSnapshotMemory(req []byte, resp []byte) []byte {
	var r struct {
		Body struct {
			Call struct {
				Memory bool `xml:"memory"`
			} `xml:",any"`
		} `xml:"Body"`
	}
	if xml.Unmarshal(req, &r) != nil {
		return nil
	}
	task := taskOf(resp)
	if task == nil || task.Info.State != types.TaskInfoStateSuccess {
		return nil
	}
	if ref, ok := task.Info.Result.(types.ManagedObjectReference); ok {
		snapshotMemory.Lock()
		snapshotMemory.of[ref.Value] = r.Body.Call.Memory
		snapshotMemory.Unlock()
	}
	return nil
}

func applySnapshotPowerState(req []byte, resp []byte) []byte {
	task := taskOf(resp)
	if task == nil || task.Info.State != types.TaskInfoStateSuccess {
		return nil
	}
	ref := parseRequest(req).Body.Call.This
	snap, ok := simulator.Map.Get(ref).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return nil
	}
	vm, ok := simulator.Map.Get(snap.Vm).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	snapshotMemory.Lock()
	memory := snapshotMemory.of[ref.Value]
	snapshotMemory.Unlock()
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot == nil {
			return
		}
		tree := findTree(vm.Snapshot.RootSnapshotList, ref)
		if tree == nil {
			return
		}
		state := tree.State
		if !memory {
			state = types.VirtualMachinePowerStatePoweredOff
		}
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.powerState", Val: state},
			{Name: "summary.runtime.powerState", Val: state},
		})
	})
	return nil
}

func findTree(trees []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference) *types.VirtualMachineSnapshotTree {
	for i := range trees {
		if trees[i].Snapshot == ref {
			return &trees[i]
		}
		if found := findTree(trees[i].ChildSnapshotList, ref); found != nil {
			return found
		}
	}
	return nil
}
