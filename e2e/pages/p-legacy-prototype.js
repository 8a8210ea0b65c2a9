// What an old library leaves behind: an enumerable member on Object.prototype.
Object.prototype.leaked = 'from an old library';
