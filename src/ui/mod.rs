//! The cockpit window (egui): draws state and emits commands; never touches the network.
