/** An EBS volume as every disk of this stack is: gp3, encrypted, gone with its instance. */
export function encryptedGp3(deviceName: string, volumeSize: number) {
  return {
    deviceName,
    ebs: { volumeSize, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
  };
}
